"""The hosts' opt-in role mention on Discord: that role pinged with the question, nobody else."""

from __future__ import annotations

from typing import Any

from storage import rounds as store


def _allowed(request: Any) -> dict[str, Any]:
    body = request.json or {}
    data = body.get("data", body)  # an interaction callback nests the message in "data"
    allowed: dict[str, Any] = data["allowed_mentions"]
    return allowed


async def test_the_question_pings_the_hosts_role_and_only_it(world: Any) -> None:
    bot, _platform = await world.start_bot()
    s = world.server()
    members = s.guild.create_role("Cercle")
    setup = await s.hana.slash(
        s.channel, "circle setup", mention="on", mention_role=f"<@&{members.id}>"
    )
    assert setup.response is not None
    assert f"le rôle `{members.id}` avec la question et le rappel" in setup.response.content
    for request in s.requests("POST", "/callback"):
        assert _allowed(request)["parse"] == [] and not _allowed(request).get("roles")
    before = len(s.env.http_requests)
    result = await s.hana.slash(s.channel, "prompt now")
    assert result.response is not None
    question = result.response.message
    assert question.content.startswith(f"<@&{members.id}> **")
    (posted,) = [
        r
        for r in s.env.http_requests[before:]
        if r.method == "POST" and "/callback" in r.path and "question" in str(r.json)
    ]
    allowed = _allowed(posted)
    assert allowed["parse"] == [] and [int(r) for r in allowed["roles"]] == [members.id]
    assert not allowed.get("users") and not allowed.get("replied_user")
    # The reminder pings too, once; a second run of it does not.
    rounds_cog = next(c for c in bot.cogs if c.name == "rounds")
    round_ = await store.current_round(world.db, 1)
    assert round_ is not None
    before = len(s.env.http_requests)
    await rounds_cog._remind(round_.id)
    await rounds_cog._remind(round_.id)
    await world.sim.settle()
    sent = [r for r in s.env.http_requests[before:] if r.method == "POST" and "/messages" in r.path]
    roles = [[int(role) for role in _allowed(r).get("roles", [])] for r in sent]
    assert roles == [[members.id], []]
    assert all(_allowed(r)["parse"] == [] for r in sent)
    assert sent[0].json["content"].startswith(f"<@&{members.id}> ⏳")
    assert not sent[1].json["content"].startswith("<@&")
