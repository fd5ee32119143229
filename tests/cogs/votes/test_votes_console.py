"""Voting on the console (`cercle run`): `/vote` typed at the prompt, the digest at the close
shows where professions agree and differ. The console shows no buttons: votes are typed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.adapters.console import CONSOLE
from bot.i18n import translator
from cogs.votes.base import how_to_vote

CERCLE = Path(sys.executable).with_name("cercle")
PROFESSIONS = {
    "ana": "infirmière",
    "bea": "infirmière",
    "cleo": "infirmière",
    "bob": "architecte",
    "ben": "architecte",
    "bart": "architecte",
}


def test_members_vote_at_the_console_and_the_digest_shows_both_sections(tmp_path: Path) -> None:
    lines = ["hana> bonjour"]
    lines += [f"{name}> /profession set {wording}" for name, wording in PROFESSIONS.items()]
    lines += [
        "hana> /prompt now",
        "hana> /statement add Les réseaux enferment chaque métier dans sa bulle.",
        "hana> /statement add Publier ses travaux en ligne protège le métier.",
    ]
    lines += [f"{name}> /vote 1 pour" for name in PROFESSIONS]
    lines += [
        f"{name}> /vote 2 {'agree' if wording == 'infirmière' else 'contre'}"
        for name, wording in PROFESSIONS.items()
    ]
    lines.append(":advance 7d")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
    command = ["run", "--clock", "fake", "--start", "2026-03-02T09:00+01:00", "--host", "hana"]
    result = subprocess.run(
        [str(CERCLE), *command],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert out.count("[private → ana] Cercle:\nVotre vote sur n°") == 2
    # The console is one person's terminal: no other member saw the command typed there.
    assert "Ce salon a vu votre commande" not in out and "**n°1** Les réseaux" in out
    assert "Votre vote sur n°2 est enregistré : pas d’accord. « Publier ses travaux" in out
    digest = out[out.index("**Participation**") :]
    assert "**Où les métiers s’accordent**\n• n°1 « Les réseaux enferment" in digest
    assert "**Où les métiers divergent**\n• n°2 « Publier ses travaux en ligne" in digest
    assert "Infirmier / Infirmière 3 sur 3 · Architecte 0 sur 3" in digest


def test_the_console_tells_how_to_vote_without_a_room_that_sees_it() -> None:
    said = how_to_vote(translator("fr"), CONSOLE, "/")
    assert said.startswith("Votez avec `/vote <n> pour|contre|passe` : ma réponse ne s’adresse")
    assert "salon" not in said
