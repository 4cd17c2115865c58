"""Updates that are not a plain private text message: groups, service messages, captions,
files, and names with bidi controls."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fakes.telegram_api import FakeTelegram
from tests.telegram_harness import CHAT, Running

GROUP = -100123


async def wait_for(condition: Any, what: str) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(what)


def private_message(fake: FakeTelegram, **content: Any) -> dict[str, Any]:
    update = fake.make_message_update(CHAT, "x")
    del update["message"]["text"]
    update["message"].update(content)
    return update


async def test_start_in_a_group_gets_a_private_link_and_the_bot_leaves(polling: Running) -> None:
    fake = polling.fake
    fake.push_message(GROUP, "/start@coach_test_bot")
    (note,) = await fake.wait_for_sent(1, GROUP)
    assert "https://t.me/coach_test_bot?start=grup" in note["text"]
    await wait_for(lambda: fake.left_chats == [GROUP], "the bot did not leave the group")
    assert await polling.user(GROUP) is None  # a group is not a user


async def test_added_to_a_group_the_bot_leaves_without_a_word(polling: Running) -> None:
    fake = polling.fake
    fake.push_my_chat_member(GROUP, "member")
    await wait_for(lambda: fake.left_chats == [GROUP], "the bot did not leave the group")
    assert fake.sent(GROUP) == []


async def test_a_button_in_a_group_is_answered_then_the_bot_leaves(polling: Running) -> None:
    fake = polling.fake
    fake.push_callback(GROUP, "v1:tips:more", message_id=1)
    await wait_for(lambda: fake.left_chats == [GROUP], "the bot did not leave the group")
    assert len(fake.answered_callbacks) == 1
    assert fake.sent(GROUP) == []


async def test_service_messages_get_no_reply(polling: Running) -> None:
    fake = polling.fake
    pinned = fake.make_message_update(CHAT, "pesan lama")["message"]
    fake.push_update(private_message(fake, pinned_message=pinned))
    fake.push_update(
        private_message(fake, message_auto_delete_timer_changed={"message_auto_delete_time": 86400})
    )
    fake.push_message(CHAT, "/bantuan")
    (reply,) = await fake.wait_for_sent(1, CHAT)
    assert "/latihan" in reply["text"]  # the only reply is to /bantuan
    await asyncio.sleep(0.5)
    assert len(fake.sent(CHAT)) == 1


async def test_a_photo_caption_is_read_as_text(polling: Running) -> None:
    fake = polling.fake
    photo = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}]
    fake.push_update(private_message(fake, photo=photo, caption="/tips"))
    (tip,) = await fake.wait_for_sent(1, CHAT)
    assert "Tips interview" in tip["text"]


async def test_a_file_gets_asked_to_paste_its_text(polling: Running) -> None:
    fake = polling.fake
    document = {"file_id": "BQAD", "file_unique_id": "AgAD", "file_name": "CV.pdf"}
    fake.push_update(private_message(fake, document=document, caption="tolong review CV saya"))
    (reply,) = await fake.wait_for_sent(1, CHAT)
    assert "belum bisa membaca file" in reply["text"]
    assert "Tempel teksnya di sini" in reply["text"]


async def test_bidi_controls_are_stripped_from_names_and_text(polling: Running) -> None:
    fake = polling.fake
    fake.push_message(CHAT, "/start", first_name="\u202eRina\u2066")
    welcome, _ = await fake.wait_for_sent(2, CHAT)
    assert "Halo, Rina!" in welcome["text"]
    user = await polling.user()
    assert user is not None and user.display_name == "Rina"
