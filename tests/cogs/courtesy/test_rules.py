"""Rules settings: defaults from data, overrides merged on top, every mistake reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from cogs.courtesy.rules import (
    Action,
    Category,
    SettingsError,
    build_settings,
    default_settings,
    read_settings_file,
)


def test_defaults_cover_every_category_and_action() -> None:
    settings = default_settings()
    assert {r.category for r in settings.rules.values()} == set(Category) - {Category.OK}
    assert {r.action for r in settings.rules.values()} == set(Action) - {Action.ALLOW}
    assert settings.rule("rude.dismissive").action is Action.NUDGE
    assert settings.rule("rude.dismissive").strikes == 0
    assert "cul-de-sac" in settings.allow


def test_overrides_merge_on_top_of_the_defaults() -> None:
    settings = build_settings(
        {
            "rules": {"profanity": {"action": "warn", "strikes": 0.5}},
            "flood": {"messages": 10},
            "allow": {"words": ["bite d'amarrage"]},
            "words": {"insult.strong": ["zut"]},
            "links": {"allowed_domains": ["Example.org"]},
        }
    )
    assert settings.rule("profanity").action is Action.WARN
    assert settings.rule("profanity").strikes == 0.5
    assert settings.flood_messages == 10
    assert settings.flood_seconds == 30
    assert "bite d'amarrage" in settings.allow and "cul-de-sac" in settings.allow
    assert settings.words == {"insult.strong": ("zut",)}
    assert settings.allowed_domains == ("example.org",)


def test_every_mistake_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        build_settings(
            {
                "rules": {"nope": {"action": "hide"}, "profanity": {"action": "ban", "x": 1}},
                "flood": {"messages": -1, "bogus": 2},
                "strikes": {"mute_minutes": []},
                "words": {"unknown.rule": ["a"]},
                "colour": {},
            }
        )
    problems = "\n".join(caught.value.problems)
    for expected in (
        "rules.nope: unknown rule",
        "rules.profanity.action: 'ban' is not one of",
        "rules.profanity.x: unknown key",
        "flood.messages: must not be negative",
        "flood.bogus: unknown key",
        "strikes.mute_minutes",
        "words.unknown.rule: unknown rule",
        "colour: unknown section",
    ):
        assert expected in problems


def test_settings_file_at_top_level_or_under_courtesy(tmp_path: Path) -> None:
    flat = tmp_path / "flat.toml"
    flat.write_text('[rules."profanity"]\naction = "allow"\n', encoding="utf-8")
    nested = tmp_path / "nested.toml"
    nested.write_text('[courtesy.rules."profanity"]\naction = "allow"\n', encoding="utf-8")
    for path in (flat, nested):
        assert build_settings(read_settings_file(path)).rule("profanity").action is Action.ALLOW
    broken = tmp_path / "broken.toml"
    broken.write_text("[rules\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        read_settings_file(broken)
    with pytest.raises(SettingsError):
        read_settings_file(tmp_path / "missing.toml")
