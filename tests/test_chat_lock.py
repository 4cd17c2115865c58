"""Updates from one chat are handled one at a time; other chats are not held up."""

from __future__ import annotations

import asyncio

from bot.channels.chat_lock import ChatLocks


async def test_one_chat_waits_and_other_chats_run_alongside() -> None:
    locks = ChatLocks()
    events: list[str] = []
    release = asyncio.Event()

    async def handle(chat: str, name: str, wait: bool) -> None:
        async with locks.hold(chat):
            events.append(f"{name} start")
            if wait:
                await release.wait()
            events.append(f"{name} end")

    first = asyncio.create_task(handle("a", "a1", wait=True))
    await asyncio.sleep(0)
    second = asyncio.create_task(handle("a", "a2", wait=False))
    other = asyncio.create_task(handle("b", "b1", wait=False))
    await other
    assert events == ["a1 start", "b1 start", "b1 end"]  # a2 waits for a1
    release.set()
    await asyncio.gather(first, second)
    assert events[3:] == ["a1 end", "a2 start", "a2 end"]
    assert len(locks) == 0  # nothing kept for idle chats
