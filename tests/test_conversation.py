"""Every handler, driven through the router the way a channel delivers messages."""

from __future__ import annotations

from datetime import time

import pytest

from bot.app import App
from tests.answers import model_answer
from tests.conftest import Person, payloads_of, text_of


async def test_onboarding_stores_role_time_and_zone(person: Person) -> None:
    replies = await person.say("/start")
    assert "Halo, Rina!" in replies[0].text
    assert "interview HR" in replies[0].text and "interview user" in replies[0].text
    assert "v1:ob:role:developer" in payloads_of(replies)
    assert "v1:ob:role:skip" in payloads_of(replies)

    replies = await person.tap("v1:ob:role:developer")
    assert "pengalaman kerjamu" in text_of(replies)
    replies = await person.say("1-3 tahun")
    assert "Jam berapa" in text_of(replies)
    replies = await person.say("06.30")
    assert "zona waktu" in text_of(replies)
    replies = await person.say("wita")
    done = text_of(replies)
    assert "Peran: Developer" in done
    assert "pukul 06.30 WITA" in done
    assert "/mode user" in done

    user = await person.user()
    assert (user.role, user.level, user.daily_time, user.timezone) == (
        "developer",
        "junior",
        time(6, 30),
        "Asia/Makassar",
    )
    assert await person.state() is None


async def test_every_onboarding_step_can_be_skipped(person: Person) -> None:
    await person.say("/start")
    await person.tap("v1:ob:role:skip")
    await person.tap("v1:ob:level:skip")
    await person.say("lewati")
    replies = await person.tap("v1:ob:zone:skip")
    assert "pukul 07.00 WIB" in text_of(replies)
    user = await person.user()
    assert (user.role, user.level, user.daily_time, user.timezone) == (
        "umum",
        None,
        time(7, 0),
        "Asia/Jakarta",
    )


async def test_bad_onboarding_answer_is_explained_and_the_step_repeats(person: Person) -> None:
    await person.say("/start")
    replies = await person.say("astronot")
    assert "Peran “astronot” belum ada" in text_of(replies)
    assert await person.state() == ("onboarding", {"step": "role"})
    await person.say("qa")
    replies = await person.say("lima tahun lebih")
    assert "“lima tahun lebih” belum aku kenal" in text_of(replies)
    assert await person.state() == ("onboarding", {"step": "level"})
    await person.say("senior")
    replies = await person.say("25.00")
    assert "“25.00” bukan jam" in text_of(replies)
    assert await person.state() == ("onboarding", {"step": "time"})


async def test_a_command_mid_onboarding_runs_at_once(person: Person) -> None:
    await person.say("/start")
    await person.say("data")
    replies = await person.say("/mode user")
    assert "Mode user aktif" in text_of(replies)
    assert "Data" in text_of(replies)
    user = await person.user()
    assert (user.mode, user.role) == ("user", "data")
    # The onboarding is over: free text is not taken as a time any more.
    assert await person.state() is None
    replies = await person.say("07.00")
    assert "Aku belum paham" in text_of(replies) or "Sepertinya" in text_of(replies)


@pytest.mark.parametrize(
    "text", ["/mode user", "mode user", "/MODE User", "Mode USER", "/mode@CoachBot user"]
)
async def test_commands_work_with_or_without_slash_in_any_case(person: Person, text: str) -> None:
    replies = await person.say(text)
    assert "Mode user aktif" in text_of(replies)
    assert (await person.user()).mode == "user"


async def test_mode_without_argument_shows_buttons_and_a_tap_switches(person: Person) -> None:
    replies = await person.say("/mode")
    assert "Mode sekarang: HR" in text_of(replies)
    assert payloads_of(replies) == ["v1:mode:hr", "v1:mode:user"]
    replies = await person.tap("v1:mode:user")
    assert replies[0].edit is True
    assert (await person.user()).mode == "user"
    replies = await person.tap("v1:mode:user")
    assert "sudah di mode user" in text_of(replies)


async def test_mode_changes_what_tips_and_questions_are_about(app: App, person: Person) -> None:
    library = app.coach.library
    hr_tips = {t.text for t in library.tips if t.mode == "hr"}
    user_tips = {t.text for t in library.tips if t.mode == "user"}
    hr_questions = {q.text for q in library.questions if q.mode == "hr"}
    qa_questions = {
        q.text for q in library.questions if q.mode == "user" and q.role in ("qa", "umum")
    }

    for _ in range(3):
        tip = text_of(await person.say("/tips"))
        assert any(t in tip for t in hr_tips)
        question = text_of(await person.say("/latihan"))
        assert any(q in question for q in hr_questions)

    await person.say("/peran qa")
    await person.say("/mode user")
    for _ in range(3):
        tip = text_of(await person.say("/tips"))
        assert any(t in tip for t in user_tips)
        assert not any(t in tip for t in hr_tips)
        question = text_of(await person.say("/latihan"))
        assert any(q in question for q in qa_questions)
        assert "mode user · QA" in question


async def test_tips_do_not_repeat_until_the_pool_is_used_up(app: App, person: Person) -> None:
    pool = [t for t in app.coach.library.tips if t.fits("hr", "umum")]
    seen = []
    for _ in range(len(pool)):
        reply = text_of(await person.say("/tips"))
        seen.append(next(t.id for t in pool if t.text in reply))
    assert sorted(seen) == sorted(t.id for t in pool)
    again = text_of(await person.tap("v1:tips:more"))
    assert seen[0] == next(t.id for t in pool if t.text in again)


async def test_practice_answer_gets_feedback_and_is_stored(app: App, person: Person) -> None:
    replies = await person.say("/latihan")
    state = await person.state()
    assert state is not None and state[0] == "practice"
    question = app.coach.library.question(str(state[1]["question_id"]))
    assert question is not None and question.text in text_of(replies)

    answer = model_answer(question)
    replies = await person.say(answer)
    feedback = text_of(replies)
    assert "Feedback jawabanmu · skor" in feedback
    assert "Satu hal untuk diperbaiki" in feedback
    # The question stays open for a retry.
    state = await person.state()
    assert state is not None and state[1]["question_id"] == question.id

    attempts = await person.attempts()
    assert [a.question_id for a in attempts] == [question.id]
    assert attempts[0].answer == answer
    assert attempts[0].feedback_summary.startswith(f"skor {attempts[0].score};")


async def test_too_short_practice_answer_keeps_the_question_open(person: Person) -> None:
    await person.say("/latihan")
    before = await person.state()
    replies = await person.say("saya rajin")
    assert "baru 2 kata" in text_of(replies)
    assert await person.state() == before


async def test_answer_starting_with_a_command_word_is_still_an_answer(person: Person) -> None:
    await person.practise("hr-q-007")
    replies = await person.say(
        "Tips saya adalah membaca satu artikel teknis setiap pagi, lalu saya coba langsung di "
        "proyek kecil. Bulan lalu saya belajar Docker dengan cara itu dan sekarang saya pakai "
        "untuk menjalankan tiga layanan di laptop."
    )
    assert "Feedback jawabanmu" in text_of(replies)
    assert "Tips interview" not in text_of(replies)


async def test_settings_commands(person: Person) -> None:
    assert "Peranmu sekarang: Umum" in text_of(await person.say("/peran"))
    assert "peranmu sekarang Data" in text_of(await person.say("/peran data analyst"))
    assert "pukul 19.30 WIB" in text_of(await person.say("/pengingat 19:30"))
    assert "pukul 07.15 WIB" in text_of(await person.say("pengingat 07.15"))
    assert "pukul 07.15, sekarang mengikuti waktu WIT" in text_of(await person.say("/zona wit"))
    user = await person.user()
    assert (user.role, user.daily_time, user.timezone) == ("data", time(7, 15), "Asia/Jayapura")
    assert "Tips harian dikirim pukul 07.15 WIT" in text_of(await person.say("/pengingat"))
    assert payloads_of(await person.say("/zona")) == ["v1:zone:WIB", "v1:zone:WITA", "v1:zone:WIT"]


async def test_ask_back_follows_the_round_and_rotates(app: App, person: Person) -> None:
    hr = {a.text for a in app.coach.library.ask_back if a.round == "hr"}
    first = text_of(await person.say("/tanya_balik"))
    shown = [text for text in hr if text in first]
    assert len(shown) == 3
    second = text_of(await person.tap("v1:tanya:more"))
    assert not any(text in second for text in shown)
    await person.say("/mode user")
    user_round = {a.text for a in app.coach.library.ask_back if a.round == "user"}
    reply = text_of(await person.say("tanya_balik"))
    assert any(text in reply for text in user_round)


@pytest.mark.parametrize("text", ["/bantuan", "/help", "bantuan", "HELP"])
async def test_help_lists_the_commands(person: Person, text: str) -> None:
    reply = text_of(await person.say(text))
    for command in (
        "/start",
        "/mode",
        "/tips",
        "/latihan",
        "/tanya_balik",
        "/peran",
        "/pengingat",
        "/zona",
    ):
        assert command in reply


@pytest.mark.parametrize("text", ["ẞ̶̧ ﷽ 𝕙𝕒𝕝𝕠 \u202e", "<script>alert(1)</script>", "🙂🔥 qwerty"])
async def test_odd_text_outside_a_flow_gets_the_fallback(person: Person, text: str) -> None:
    assert "Aku belum paham" in text_of(await person.say(text))
    assert await person.state() is None


async def test_fallback_points_to_the_right_command(person: Person) -> None:
    assert "/latihan" in text_of(await person.say("aku mau soal dong"))
    assert "Sepertinya kamu mencari /zona" in text_of(await person.say("aku tinggal di wita"))
    assert "Aku belum paham" in text_of(await person.say("qwerty asdf"))
    assert "/pengingat" in text_of(await person.say("jam 7 malam"))


async def test_a_first_hello_starts_onboarding_and_a_later_one_offers_practice(
    person: Person,
) -> None:
    first = await person.say("Halo kak!")
    assert "Aku coach interview kamu" in text_of(first)
    assert await person.state() == ("onboarding", {"step": "role"})

    await person.say("/mode user")
    later = await person.say("selamat pagi")
    assert "Halo juga, Rina! Sekarang kamu di mode user" in text_of(later)
    assert [b.payload for b in later[-1].buttons] == ["v1:latihan:next", "v1:tips:more"]
    assert await person.state() is None


BAD_INPUTS = [
    ("", "Pesanmu kosong"),
    ("   \n\t ", "Pesanmu kosong"),
    ("\u200b\u200d", "Pesanmu kosong"),
    ("x" * 5000, "Pesanmu 5.000 karakter"),
    ("🙂🔥🙏", "masih menunggu jawaban"),
    ("ẞ̶̧ ﷽ 𝕙𝕒𝕝𝕠 \u202e", "terlalu singkat untuk dinilai"),
    ("/xyz", "Perintah /xyz belum aku kenal"),
    ("/pengingat 25:61", "“25:61” bukan jam"),
    ("/pengingat jam tujuh", "bukan jam"),
    ("/zona XYZ", "Zona “XYZ” tidak aku kenal"),
    ("/mode lol", "Mode “lol” tidak ada"),
    ("/peran astronot", "Peran “astronot” belum ada"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_INPUTS)
async def test_bad_input_gets_a_clear_answer_and_changes_nothing(
    person: Person, text: str, expected: str
) -> None:
    await person.say("/peran developer")
    await person.say("/latihan")
    before = await person.snapshot()
    replies = await person.say(text)
    assert expected in text_of(replies)
    assert await person.snapshot() == before


@pytest.mark.parametrize(
    "payload",
    [
        "v1:mode:lol",
        "v9:mode:hr",
        "garbage",
        "v1:nope:x",
        "v1:ob:role:qa",
        "v1:tips:" + "x" * 80,
        "",
    ],
)
async def test_forged_or_stale_buttons_change_nothing(person: Person, payload: str) -> None:
    await person.say("/tips")
    before = await person.snapshot()
    replies = await person.tap(payload)
    assert "Tombol itu sudah tidak berlaku" in text_of(replies)
    assert await person.snapshot() == before


async def test_html_in_a_name_is_kept_as_plain_text(app: App) -> None:
    person = Person(app, chat_id="2002", name="<b>x</b>")
    replies = await person.say("/start")
    assert "Halo, <b>x</b>!" in replies[0].text
    assert (await person.user()).display_name == "<b>x</b>"


async def test_users_are_kept_apart(app: App) -> None:
    rina, budi = Person(app, "1", "Rina"), Person(app, "2", "Budi")
    await rina.say("/mode user")
    await budi.say("/zona WIT")
    assert ((await rina.user()).mode, (await rina.user()).timezone) == ("user", "Asia/Jakarta")
    assert ((await budi.user()).mode, (await budi.user()).timezone) == ("hr", "Asia/Jayapura")
