"""Members' data: ``/circle mydata`` hands a member everything stored about them,
``/circle forget`` erases it. Every cog says what it stores through its data hooks; this one
also deletes the bot's posts in the member's name (see :mod:`cogs.privacy.posts`) and what
the adapters keep about the member's accounts."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

from bot.cog import Cog, CommandContext, command
from bot.commands import OptionSpec, OptionType
from bot.i18n import N_, local_name
from bot.scheduler import JobRun, cron
from bot.types import Attachment, Content
from cogs.privacy.posts import delete_posts
from storage import courtesy, members, rounds, state


class PrivacyCog(Cog):
    """Export and erasure of a member's data, across every cog."""

    name = "privacy"

    @command(
        "circle",
        "mydata",
        description=N_("Receive a file with everything Cercle stores about you."),
        private=True,
        slow=True,
    )
    async def mydata(self, ctx: CommandContext) -> None:
        """Send the member a JSON export of what every cog stores about them."""
        export: dict[str, Any] = {
            "member": await members.member_record(self.services.db, ctx.member_id),
            "exported_at": self.services.clock.now().isoformat(),
        }
        export.update(await self.services.member_data.export(ctx.member_id))
        data = json.dumps(export, ensure_ascii=False, indent=2, default=str).encode()
        await ctx.reply(
            Content(
                text=ctx.t._(
                    "Here is everything Cercle stores about you. To erase it, use {command}.",
                    command=f"`{ctx.prefix}circle forget`",
                ),
                attachments=(Attachment("cercle-mydata.json", data, "application/json"),),
            )
        )

    @command(
        "circle",
        "forget",
        description=N_("Erase your answers, comments, profession and strikes."),
        options=[
            OptionSpec(
                "confirm", N_("Write yes to confirm: this cannot be undone"), OptionType.BOOLEAN
            )
        ],
        private=True,
        slow=True,
    )
    async def forget(self, ctx: CommandContext) -> None:
        """Erase the member everywhere, after an explicit confirmation."""
        if not ctx.options["confirm"]:
            await ctx.reply(
                ctx.t._(
                    "This erases your answers, comments, profession, strikes and everything "
                    "else Cercle stores about you, and deletes the messages the bot posted in "
                    "your name. Digests already posted keep only counts and theme names: your "
                    "quotes are taken out of them. To go ahead: {command}",
                    command=f"`{ctx.prefix}circle forget {local_name('confirm', ctx.t.locale)}:"
                    f"{local_name('yes', ctx.t.locale)}`",
                )
            )
            return
        if await self.services.member_data.erase(ctx.member_id):
            await ctx.reply(
                ctx.t._(
                    "Not everything could be erased; the hosts can see why in the log. "
                    "Try again later."
                )
            )
            return
        await members.delete_member(self.services.db, ctx.member_id)
        self.services.directory.forget_member(ctx.member_id)
        await ctx.reply(ctx.t._("Done: Cercle no longer stores anything about you."))

    async def on_start(self) -> None:
        """Purge old answers every night when a retention period is configured."""
        if self.services.config.privacy.retention_days is not None:
            self.services.scheduler.add(
                "privacy:retention",
                cron("30 3 * * *", self.services.config.bot.timezone),
                self._purge,
            )

    async def _purge(self, run: JobRun) -> None:
        days = self.services.config.privacy.retention_days
        if days is None:
            return
        cutoff = run.scheduled_for - timedelta(days=days)
        removed = await rounds.purge_closed_before(self.services.db, cutoff)
        self.log.info(
            "retention: %s answers and comments older than %s days deleted", removed, days
        )

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """The messages the bot posted in the member's name (masked reposts, ``/answer``…)."""
        posts = await members.posts_in_name_of(self.services.db, member_id)
        return {"posts_in_your_name": [dataclasses.asdict(post) for post in posts]}

    async def erase_member_data(self, member_id: int) -> None:
        """Delete the bot's posts in the member's name, and what adapters keep about them.

        Runs after the other cogs (it is the last one): a running mute was lifted by then,
        so no adapter still needs what it kept to restore the member.

        Raises:
            RuntimeError: Some posts could not be deleted (they stay kept, to retry).
        """
        left = await delete_posts(self.services, member_id)
        for account in await courtesy.accounts_of(self.services.db, member_id):
            await state.forget_user(self.services.db, account.platform, account.platform_user_id)
        if left:
            raise RuntimeError(f"{len(left)} posts in the member's name could not be deleted")
