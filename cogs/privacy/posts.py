"""The bot's posts that carry a member's words: kept when posted, deleted when forgotten.

A cog that posts a member's words under the bot's account or in the member's name (a masked
repost, a held message shown to the hosts, an answer given with ``/answer``) calls
:func:`remember_posts`; ``/circle forget`` then deletes those messages on the platform.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.cog import Services
from bot.platform import PlatformError
from bot.types import ChannelRef, MessageRef, ThreadRef, UserRef
from storage import members
from storage.members import PostInName


async def remember_posts(services: Services, author: UserRef, refs: Iterable[MessageRef]) -> None:
    """Keep messages the bot posted with ``author``'s words, to delete them if they leave."""
    member_id = await services.directory.member_for(author)
    for ref in refs:
        post = PostInName(
            ref.channel.platform,
            ref.channel.id,
            ref.id,
            ref.thread.id if ref.thread is not None else None,
        )
        await members.remember_post(services.db, member_id, post, now=services.clock.now())


async def delete_posts(services: Services, member_id: int) -> list[PostInName]:
    """Delete every kept post in the member's name on its platform; returns those that stay.

    A post whose platform this process does not run, or that the platform refused to delete,
    stays kept (and is returned): the member's erasure is then incomplete and can be retried.
    """
    left = []
    for post in await members.posts_in_name_of(services.db, member_id):
        if post.platform not in services.platforms:
            left.append(post)
            continue
        channel = ChannelRef(post.platform, post.channel_id)
        thread = ThreadRef(channel, post.thread_id) if post.thread_id else None
        try:
            await services.platforms.get(post.platform).delete(
                MessageRef(channel, post.message_id, thread)
            )
        except PlatformError:
            services.log.warning(
                "could not delete message %s posted in a forgotten member's name",
                post.message_id,
                exc_info=True,
            )
            left.append(post)
            continue
        await members.forget_post(services.db, member_id, post)
    return left
