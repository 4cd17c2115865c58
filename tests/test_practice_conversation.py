"""Practice as a conversation: retry, hint, model answer and an answer about something
else, through the chat front door against a real database."""

from __future__ import annotations

from tests.conftest import FakeClock, Person, payloads_of, text_of

QUESTION = "hr-q-047"  # a failure and what you learned; has a model answer
FIRST_TRY = (
    "Saya pernah gagal mengejar target rilis fitur laporan di kantor karena terlalu percaya "
    "diri dan tidak minta bantuan. Akhirnya rilisnya mundur."
)
BETTER_TRY = (
    "Tahun lalu saya memimpin rilis fitur laporan keuangan untuk 30 cabang, targetnya akhir "
    "Maret. Tugas saya memastikan fiturnya siap dipakai tim finance. Saya terlalu percaya "
    "diri dan tidak minta bantuan, jadi rilisnya mundur dua minggu. Setelah itu saya pecah "
    "pekerjaan jadi tiket harian dan lapor progres tiap Jumat ke atasan. Hasilnya rilis "
    "berikutnya selesai tiga hari lebih cepat, dan sejak itu saya selalu bilang kendala "
    "di hari yang sama."
)


async def test_a_new_answer_right_after_feedback_is_graded_as_a_retry(person: Person) -> None:
    await person.practise(QUESTION)
    first = text_of(await person.say(FIRST_TRY))
    assert "Feedback jawabanmu" in first
    second = text_of(await person.say(BETTER_TRY))
    assert "Feedback jawabanmu" in second
    assert "Dibanding jawaban sebelumnya" in second
    assert "naik" in second.splitlines()[1]
    assert "Sepertinya kamu mencari" not in second
    attempts = await person.attempts()
    assert [a.question_id for a in attempts] == [QUESTION, QUESTION]
    assert attempts[1].score > attempts[0].score


async def test_free_text_long_after_feedback_is_not_taken_for_an_answer(
    person: Person, clock: FakeClock
) -> None:
    await person.practise(QUESTION)
    await person.say(FIRST_TRY)
    clock.advance(minutes=20)
    reply = text_of(await person.say(BETTER_TRY))
    assert "Feedback jawabanmu" not in reply
    assert len(await person.attempts()) == 1
    assert await person.state() is None


async def test_coba_lagi_reopens_the_question_however_long_it_has_been(
    person: Person, clock: FakeClock
) -> None:
    await person.practise(QUESTION)
    await person.say(FIRST_TRY)
    clock.advance(hours=3)
    question = person.app.coach.library.question(QUESTION)
    assert question is not None
    reopened = text_of(await person.say("coba lagi"))
    assert question.text in reopened
    clock.advance(minutes=40)
    graded = text_of(await person.say(BETTER_TRY))
    assert "Dibanding jawaban sebelumnya" in graded


async def test_the_retry_button_works_and_a_tap_under_an_old_question_is_stale(
    person: Person,
) -> None:
    await person.practise(QUESTION)
    replies = await person.say(FIRST_TRY)
    payloads = payloads_of(replies)
    assert payloads == [
        f"v1:latihan:retry:{QUESTION}",
        f"v1:latihan:example:{QUESTION}",
        "v1:latihan:next",
    ]
    assert "kirim jawaban barumu" in text_of(await person.tap(payloads[0]))
    await person.practise("hr-q-046")
    assert "sudah tidak berlaku" in text_of(await person.tap(payloads[1]))
    assert "sudah tidak berlaku" in text_of(await person.tap("v1:latihan:example:no-such-q"))


async def test_not_knowing_gets_a_hint_and_is_not_scored(person: Person) -> None:
    question = person.app.coach.library.question(QUESTION)
    assert question is not None
    await person.practise(QUESTION)
    for text in ("tidak tahu", "gak tau kak", "bingung", "minta hint"):
        reply = text_of(await person.say(text))
        assert "petunjuknya" in reply, text
        assert question.outline[0] in reply
        assert "skor" not in reply
    assert await person.attempts() == []
    state = await person.state()
    assert state is not None and state[1]["question_id"] == QUESTION
    # The question is still open: an answer now is graded.
    assert "Feedback jawabanmu" in text_of(await person.say(BETTER_TRY))


async def test_asking_for_the_model_answer_shows_it(person: Person) -> None:
    question = person.app.coach.library.question(QUESTION)
    assert question is not None and question.example_answer
    await person.practise(QUESTION)
    for text in ("bisa kasih contoh jawabannya?", "contoh jawaban"):
        reply = text_of(await person.say(text))
        assert question.example_answer.split()[0] in reply
        assert " ".join(question.example_answer.split()[:8]) in " ".join(reply.split())
    assert await person.attempts() == []
    shown = await person.tap(f"v1:latihan:hint:{QUESTION}")
    assert f"v1:latihan:example:{QUESTION}" in payloads_of(shown)


async def test_a_question_without_a_model_answer_offers_its_outline(person: Person) -> None:
    question = next(q for q in person.app.coach.library.questions if not q.example_answer)
    await person.practise(question.id)
    reply = text_of(await person.say("contoh jawaban"))
    assert "belum punya contoh jawaban" in reply
    assert question.outline[0] in reply


async def test_an_answer_about_something_else_is_noticed_not_scored(person: Person) -> None:
    await person.practise("hr-q-038")  # expected salary
    reply = text_of(
        await person.say(
            "Waktu itu dashboard laporan di kantor saya lambat sekali, sekitar 12 detik. "
            "Saya cek dengan EXPLAIN dan ternyata query-nya full table scan. Setelah saya "
            "tambahkan index, waktu muatnya turun jadi di bawah satu detik."
        )
    )
    assert "membahas hal lain" in reply
    assert "skor" not in reply
    assert await person.attempts() == []
    assert (await person.state() or ("", {}))[1]["question_id"] == "hr-q-038"


async def test_help_words_without_an_open_question_point_to_latihan(person: Person) -> None:
    await person.say("/start")
    await person.say("/tips")
    assert "/latihan" in text_of(await person.say("coba lagi"))


async def test_a_mode_change_keeps_an_unanswered_question_open(person: Person) -> None:
    await person.practise("hr-q-001")
    replies = await person.say("/mode user")
    assert "Mode user aktif" in replies[0].text
    assert "masih menunggu jawaban" in replies[-1].text
    question = person.app.coach.library.question("hr-q-001")
    assert question is not None and question.example_answer is not None
    feedback = text_of(await person.say(question.example_answer))
    assert "Feedback jawabanmu" in feedback
    attempts = await person.attempts()
    assert [(a.question_id, a.mode) for a in attempts] == [("hr-q-001", "hr")]
    # Answered: small talk now gets its reply alone, nothing says a question is waiting.
    assert "masih menunggu" not in text_of(await person.say("makasih"))
