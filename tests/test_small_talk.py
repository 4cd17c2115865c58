"""Free text that is not an answer: small talk, coaching FAQs, commands said in words,
mistyped commands, roles by their many names, and an interview mentioned in a sentence.
The word lists are content (conversation.yaml); these tests go through the front door."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from content.schema import ShortReply
from handlers.interview import CONFIRM
from tests.conftest import Person, payloads_of, text_of


def reply_text(person: Person, reply_id: str) -> str:
    talk = person.app.coach.library.conversation
    assert talk is not None
    found: ShortReply = next(r for r in talk.replies if r.id == reply_id)
    return found.text


@pytest.mark.parametrize(
    ("text", "reply_id"),
    [
        ("makasih", "thanks"),
        ("Makasih ya kak!", "thanks"),
        ("terima kasih banyak 🙏", "thanks"),
        ("🙏🙏🙏", "thanks"),
        ("ok", "ok"),
        ("Siap!!", "ok"),
        ("👍🏽", "ok"),
        ("wkwkwk", "laugh"),
        ("🤩", "emoji"),
        ("apa itu STAR?", "faq-star"),
        ("Metode STAR itu apa sih?", "faq-star"),
        ("apa bedanya HR dan user", "faq-hr-user"),
        ("deg-degan nih", "faq-nervous"),
        ("cara jawab ekspektasi gaji", "faq-salary"),
    ],
)
async def test_small_talk_and_faqs_get_their_short_reply_and_change_nothing(
    person: Person, text: str, reply_id: str
) -> None:
    await person.say("/start")
    await person.say("/tips")  # onboarding is left; the coach is in its usual state
    before = await person.snapshot()
    replies = await person.say(text)
    assert text_of(replies) == reply_text(person, reply_id)
    assert "Aku belum paham" not in text_of(replies)
    assert await person.snapshot() == before


async def test_thanks_during_practice_keeps_the_question_open(person: Person) -> None:
    await person.practise("hr-q-001")
    replies = await person.say("makasih kak 🙏")
    assert replies[0].text == reply_text(person, "thanks")
    assert "masih menunggu jawaban" in replies[1].text
    assert await person.state() == ("practice", {"question_id": "hr-q-001", "mode": "hr"})
    assert await person.attempts() == []


async def test_a_long_answer_that_says_thank_you_is_still_an_answer(person: Person) -> None:
    await person.practise("hr-q-001")
    await person.say(
        "Terima kasih atas pertanyaannya. Kelebihan saya teliti: waktu menguji fitur "
        "pembayaran, saya menemukan dua bug yang lolos code review, menulis test untuk "
        "keduanya, dan sejak itu tidak ada insiden pembayaran selama tiga bulan."
    )
    assert len(await person.attempts()) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mau latihan", "practice"),
        ("Latihan dong kak", "practice"),
        ("kasih soal", "practice"),
        ("kasih tips", "Tips interview"),
        ("jadwal saya apa?", "Belum ada interview terdaftar"),
        ("batalin interview", "Tidak ada interview yang bisa dibatalkan"),
    ],
)
async def test_a_command_said_in_words_runs_it(person: Person, text: str, expected: str) -> None:
    await person.say("/tips")
    replies = await person.say(text)
    state = await person.state()
    if expected == "practice":
        assert state is not None and state[0] == "practice"
    else:
        assert expected in text_of(replies)


async def test_a_greeting_with_a_name_after_it(person: Person) -> None:
    await person.say("/tips")
    assert "Halo juga, Rina!" in text_of(await person.say("halo kak"))
    assert "Halo juga, Rina!" in text_of(await person.say("Selamat pagi, min"))


async def test_a_mode_change_said_in_words(person: Person) -> None:
    await person.say("/tips")
    await person.say("ganti mode ke user")
    assert (await person.user()).mode == "user"
    await person.say("Ganti ke mode HR dong!")
    assert (await person.user()).mode == "hr"


async def test_a_yes_at_the_interview_confirmation_is_not_small_talk(person: Person) -> None:
    await person.say("/interview besok 10.00")
    assert (await person.state() or ("",))[0] == CONFIRM
    replies = await person.say("ok")
    assert await person.state() is None
    assert "Tersimpan!" in text_of(replies)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("/latian", "latihan"), ("/pengigat", "pengingat"), ("/jadwl", "jadwal"), ("/tpis", "tips")],
)
async def test_a_mistyped_command_is_suggested_with_a_button(
    person: Person, typed: str, meant: str
) -> None:
    replies = await person.say(typed)
    assert f"Maksudmu /{meant}?" in text_of(replies)
    assert payloads_of(replies) == [f"v1:cmd:{meant}"]


async def test_the_suggestion_button_runs_the_command(person: Person) -> None:
    await person.say("/tips")
    await person.tap("v1:cmd:latihan")
    state = await person.state()
    assert state is not None and state[0] == "practice"


async def test_a_command_far_from_any_gets_no_guess(person: Person) -> None:
    replies = await person.say("/xyzzy")
    assert "Perintah /xyzzy belum aku kenal" in text_of(replies)
    assert payloads_of(replies) == []


@pytest.mark.parametrize("payload", ["v1:cmd:rm", "v1:cmd:", "v1:cmd:latihan:x"])
async def test_a_forged_command_button_is_stale(person: Person, payload: str) -> None:
    await person.say("/tips")
    before = await person.snapshot()
    assert "Tombol itu sudah tidak berlaku" in text_of(await person.tap(payload))
    assert await person.snapshot() == before


@pytest.mark.parametrize(
    ("typed", "role"),
    [
        ("qa tester", "qa"),
        ("Software Tester", "qa"),
        ("SDET", "qa"),
        ("backend developer", "developer"),
        ("full-stack developer", "developer"),
        ("data scientist", "data"),
        ("BI analyst", "data"),
    ],
)
async def test_roles_by_their_usual_names(person: Person, typed: str, role: str) -> None:
    await person.say(f"/peran {typed}")
    assert (await person.user()).role == role


async def test_a_role_by_its_usual_name_in_onboarding(person: Person) -> None:
    await person.say("/start")
    await person.say("software tester")
    assert (await person.user()).role == "qa"


async def test_an_interview_mentioned_in_a_sentence_starts_the_registration(
    person: Person,
) -> None:
    await person.say("/tips")
    replies = await person.say("aku ada interview besok jam 10 sama user")
    state = await person.state()
    assert state is not None and state[0] == CONFIRM, text_of(replies)
    starts_at = datetime.fromisoformat(str(state[1]["starts_at"])).astimezone(UTC)
    assert (starts_at.hour, starts_at.minute) == (3, 0)  # 10.00 WIB
    assert state[1]["mode"] == "user"
    assert "/pengingat" not in text_of(replies)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("07.00", time(7, 0)),
        ("19:30", time(19, 30)),
        ("7", time(7, 0)),
        ("jam 7 pagi", time(7, 0)),
        ("Jam 7 Malam", time(19, 0)),
        ("pukul 7.30 malam", time(19, 30)),
        ("setengah 8", time(7, 30)),
        ("setengah 8 malam", time(19, 30)),
        ("jam 2 siang", time(14, 0)),
        ("4 sore", time(16, 0)),
    ],
)
async def test_the_daily_time_as_people_say_it(person: Person, typed: str, expected: time) -> None:
    replies = await person.say(f"/pengingat {typed}")
    assert f"pukul {expected:%H.%M} WIB" in text_of(replies)
    assert (await person.user()).daily_time == expected


@pytest.mark.parametrize("typed", ["jam 7 siang", "setengah 8.30", "jam tujuh", "25", "7 pm"])
async def test_a_daily_time_that_is_not_one_is_refused(person: Person, typed: str) -> None:
    await person.say("/tips")
    before = await person.snapshot()
    assert "bukan jam yang bisa aku pakai" in text_of(await person.say(f"/pengingat {typed}"))
    assert await person.snapshot() == before


async def test_a_bare_small_hour_is_that_hour_and_refused_as_quiet(person: Person) -> None:
    await person.say("/tips")
    assert "Pukul 05.00 masuk jam tenang" in text_of(await person.say("/pengingat 5"))


async def test_the_daily_time_in_words_in_onboarding(person: Person) -> None:
    await person.say("/start")
    await person.say("qa tester")
    await person.say("fresh graduate")
    replies = await person.say("jam 7 malam")
    assert (await person.user()).daily_time == time(19, 0)
    assert "4/4" in text_of(replies)


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        ("fresh graduate", "fresh"),
        ("Baru lulus", "fresh"),
        ("1-3 tahun", "junior"),
        ("1–3 tahun", "junior"),
        ("3+ tahun", "senior"),
        ("lebih dari 3 tahun", "senior"),
        ("pindah karier", "switcher"),
    ],
)
async def test_the_experience_level_as_people_say_it(
    person: Person, typed: str, level: str
) -> None:
    replies = await person.say(f"/level {typed}")
    assert "pengalamanmu sekarang" in text_of(replies)
    assert (await person.user()).level == level


async def test_level_alone_shows_it_with_buttons_and_a_bad_one_changes_nothing(
    person: Person,
) -> None:
    replies = await person.say("/level")
    assert "Pengalamanmu tercatat: belum diisi" in text_of(replies)
    assert payloads_of(replies) == [
        "v1:level:fresh",
        "v1:level:junior",
        "v1:level:senior",
        "v1:level:switcher",
    ]
    assert "“astronot” belum aku kenal" in text_of(await person.say("/level astronot"))
    assert (await person.user()).level is None
    await person.tap("v1:level:senior")
    assert (await person.user()).level == "senior"
    assert "Tombol itu sudah tidak berlaku" in text_of(await person.tap("v1:level:ceo"))
    assert (await person.user()).level == "senior"


async def test_onboarding_asks_the_level_second(person: Person) -> None:
    replies = await person.say("/start")
    await person.say("developer")
    assert (await person.state()) == ("onboarding", {"step": "level"})
    replies = await person.tap("v1:ob:level:fresh")
    assert "3/4" in text_of(replies)
    assert (await person.user()).level == "fresh"


async def test_a_fresh_graduate_never_gets_a_question_that_presumes_a_job(
    person: Person,
) -> None:
    library = person.app.coach.library
    presumes_job = {q.id for q in library.questions if "fresh" not in q.levels}
    assert presumes_job  # the content marks some
    await person.say("/level fresh graduate")
    pool = [q for q in library.questions if q.mode == "hr" and q.role == "umum"]
    asked = set()
    for _ in range(len(pool) + 5):
        await person.say("/latihan")
        state = await person.state()
        assert state is not None
        asked.add(str(state[1]["question_id"]))
    assert asked and not asked & presumes_job
    assert len(asked) == len([q for q in pool if "fresh" in q.levels])
    # Someone with a job history gets them.
    await person.say("/level 3+ tahun")
    for _ in range(len(pool) + 5):
        await person.say("/latihan")
        state = await person.state()
        assert state is not None
        asked.add(str(state[1]["question_id"]))
    assert presumes_job & asked
