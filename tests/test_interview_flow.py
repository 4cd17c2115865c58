"""/interview, /jadwal and /batal through the router."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.db.schedule import InterviewRepository
from tests.conftest import FakeClock, Person, payloads_of, text_of


async def interviews(person: Person) -> int:
    user = await person.user()
    async with person.app.sessions() as session:
        return len(await InterviewRepository(session).upcoming(user.id, person.app.clock()))


async def test_register_asks_for_the_time_then_confirms(person: Person, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Selasa 1 Des, 10.00 WIB
    assert "jam berapa" in text_of(await person.say("/interview senin depan user"))
    replies = await person.say("jam 10")
    assert "Interview user pada Senin, 7 Desember 2026 pukul 10.00 WIB. Sudah benar?" in text_of(
        replies
    )
    assert payloads_of(replies) == ["v1:iv:save", "v1:iv:discard"]
    assert await interviews(person) == 0  # nothing saved before the confirmation
    replies = await person.tap("v1:iv:save")
    assert "Tersimpan!" in text_of(replies)
    assert await interviews(person) == 1
    # The same button tapped again is stale and saves nothing twice.
    assert "Tombol itu sudah tidak berlaku" in text_of(await person.tap("v1:iv:save"))
    assert await interviews(person) == 1


async def test_zone_is_used_for_the_interview_time(person: Person, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    await person.say("/zona WIT")
    replies = await person.say("/interview 8 Des 2026 09.00 hr")
    assert "Selasa, 8 Desember 2026 pukul 09.00 WIT" in text_of(replies)


async def test_bad_dates_are_explained_and_nothing_is_saved(
    person: Person, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    cases = {
        "/interview 31 Februari 10.00": "Tanggal 31 Februari tidak ada",
        "/interview 2026-11-01 10.00": "sudah lewat",
        "/interview 5 Desember 2028 10.00": "lebih dari setahun",
        "/interview minggu depan": "Hari apa tepatnya?",
        "/interview besok jam 3": "pagi atau sore",
        "/interview kapan-kapan": "belum bisa membaca “kapan-kapan”",
    }
    for text, expected in cases.items():
        assert expected in text_of(await person.say(text)), text
    assert await interviews(person) == 0


async def test_discard_and_mid_flow_commands(person: Person, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    await person.say("/interview besok 10.00")
    assert "tidak jadi disimpan" in text_of(await person.say("tidak"))
    await person.say("/interview besok 10.00")
    assert "Pilih Simpan" in text_of(await person.say("hmm"))
    # Another command does not drop the unsaved interview: it runs, and the draft is
    # shown again under it with its buttons.
    replies = await person.say("/tips")
    assert "Tips interview" in replies[0].text
    assert "Interview HR pada Rabu, 2 Desember 2026 pukul 10.00 WIB" in replies[-1].text
    assert "belum tersimpan" in replies[-1].text
    assert payloads_of(replies[-1:]) == ["v1:iv:save", "v1:iv:discard"]
    assert "Pilih Simpan" in text_of(await person.say("1"))  # still the confirmation
    # A command that would start a flow of its own waits for the draft.
    replies = await person.say("/latihan")
    assert len(replies) == 1 and "lalu ketik /latihan lagi" in replies[0].text
    assert (await person.state() or ("",))[0] == "interview_confirm"
    assert "Tersimpan!" in text_of(await person.tap("v1:iv:save"))
    assert await interviews(person) == 1
    replies = await person.say("/latihan")
    assert (await person.state() or ("",))[0] == "practice"


async def test_batal_with_several_interviews_offers_a_choice(
    person: Person, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    for text in ("/interview 10 Desember 2026 10.00 hr", "/interview 15 Desember 2026 13.00 user"):
        await person.say(text)
        await person.say("ya")
    replies = await person.say("/batal")
    labels = [b.label for b in replies[0].buttons]
    assert labels == ["10/12 10.00 HR", "15/12 13.00 user", "Tidak"]
    assert all(len(label) <= 20 for label in labels)
    assert "Oke, tidak ada yang dibatalkan" in text_of(await person.tap("v1:batal:no"))
    assert "Tombol itu sudah tidak berlaku" in text_of(await person.tap("v1:batal:999"))
    assert await interviews(person) == 2
    await person.tap(replies[0].buttons[0].payload)
    assert await interviews(person) == 1


async def test_a_bare_hour_answers_the_time_question(person: Person, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    await person.say("/interview senin depan hr")
    reply = text_of(await person.say("sore"))
    assert "“sore” belum bisa aku baca sebagai jam" in reply
    assert "Senin, 7 Desember 2026" in reply and "2026-12-07" not in reply
    reply = text_of(await person.say("14"))
    assert "Senin, 7 Desember 2026 pukul 14.00 WIB. Sudah benar?" in reply


async def test_typing_batal_at_the_confirmation_drops_only_the_draft(
    person: Person, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    await person.say("/interview 10 Desember 2026 10.00 hr")
    await person.say("ya")
    await person.say("/interview 15 Desember 2026 13.00 user")
    reply = text_of(await person.say("batal"))
    assert "tidak jadi disimpan" in reply
    assert "Batalkan" not in reply  # not the /batal command about the saved interview
    assert await interviews(person) == 1


async def test_a_practice_answer_starting_with_a_command_word_gets_feedback(
    person: Person,
) -> None:
    for answer in (
        "Interview terakhir saya gagal karena kurang persiapan",
        "Interview saya jam 3 molor dua jam",
    ):
        await person.say("/latihan")
        assert "Feedback jawabanmu" in text_of(await person.say(answer)), answer
    await person.say("/latihan")
    reply = text_of(await person.say("tips"))  # a bare command word still works
    assert "Tips interview" in reply


async def test_a_sensible_command_without_slash_still_works_during_practice(
    person: Person, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    await person.say("/latihan")
    reply = text_of(await person.say("interview besok jam 10 hr"))
    assert "Interview HR pada Rabu, 2 Desember 2026 pukul 10.00 WIB. Sudah benar?" in reply
    await person.say("/latihan")
    assert "peranmu sekarang Data" in text_of(await person.say("peran data analyst"))


async def test_pagi_or_sore_completes_an_ambiguous_hour(person: Person, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert "pagi atau sore" in text_of(await person.say("/interview besok jam 3 user"))
    reply = text_of(await person.say("sore"))
    assert "Interview user pada Rabu, 2 Desember 2026 pukul 15.00 WIB" in reply
    await person.say("tidak")
    await person.say("/interview senin depan")
    assert "pagi atau sore" in text_of(await person.say("3"))
    reply = text_of(await person.say("pagi"))
    assert "Senin, 7 Desember 2026 pukul 03.00 WIB" in reply


async def test_besok_said_before_midnight_stays_that_day(person: Person, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 1, 16, 50, tzinfo=UTC)  # Selasa 1 Des, 23.50 WIB
    await person.say("/interview besok jam 3")
    clock.now = datetime(2026, 12, 1, 17, 5, tzinfo=UTC)  # 00.05 WIB, now Rabu
    reply = text_of(await person.say("sore"))
    assert "Rabu, 2 Desember 2026 pukul 15.00 WIB" in reply


async def test_a_zone_typed_with_the_time_is_that_zone(person: Person, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10.00 WIB, the user's zone
    replies = await person.say("/interview besok 10:30 WITA")
    assert "Rabu, 2 Desember 2026 pukul 10.30 WITA (09.30 WIB)" in text_of(replies)
    saved = text_of(await person.say("ya"))
    assert "10.30 WITA (09.30 WIB)" in saved
    async with person.app.sessions() as session:
        (interview,) = await InterviewRepository(session).upcoming(
            (await person.user()).id, clock.now
        )
    assert interview.starts_at == datetime(2026, 12, 2, 2, 30, tzinfo=UTC)


async def test_a_zone_typed_with_the_answer_to_the_time_question(
    person: Person, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    await person.say("/interview besok")
    replies = await person.say("14.00 wit")
    assert "pukul 14.00 WIT (12.00 WIB)" in text_of(replies)


async def test_a_new_zone_says_how_registered_interviews_read_now(
    person: Person, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    await person.say("/interview 5 Desember 2026 10.00 hr")
    await person.say("ya")
    replies = await person.say("/zona WITA")
    assert "Zona waktu diganti ke WITA" in replies[0].text
    assert "tidak ikut bergeser" in replies[1].text
    assert "HR: Sabtu, 5 Desember 2026 pukul 10.00 WIB, sekarang tertulis 11.00 WITA" in (
        replies[1].text
    )
    # Nothing registered, or the same zone again: nothing to say about interviews.
    assert len(await person.say("/zona WITA")) == 1


async def test_next_week_then_a_weekday_is_that_day_next_week(
    person: Person, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tuesday 1 December, 10.00 WIB
    assert "Hari apa tepatnya?" in text_of(await person.say("/interview minggu depan"))
    replies = await person.say("kamis jam 10")
    assert "Kamis, 10 Desember 2026 pukul 10.00 WIB" in text_of(replies)


async def test_a_time_of_day_without_an_hour_asks_the_hour(
    person: Person, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    replies = await person.say("/interview besok pagi")
    assert "Interview hari Rabu, 2 Desember 2026, jam berapa?" in text_of(replies)
    replies = await person.say("setengah 10")
    assert "Rabu, 2 Desember 2026 pukul 09.30 WIB" in text_of(replies)


async def test_a_command_during_a_registration_without_a_time_says_it_stopped(
    person: Person, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    await person.say("/interview besok")
    replies = await person.say("/tips")
    assert "Tips interview" in replies[0].text
    assert "Pendaftaran interview tadi aku hentikan" in replies[-1].text
    assert await person.state() is None


async def test_a_weekday_that_contradicts_the_date_is_asked_back(
    person: Person, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    replies = await person.say("/interview Jumat, 5 Desember jam 10")
    assert "Tanggal itu jatuh pada Sabtu, 5 Desember 2026" in text_of(replies)
    assert await interviews(person) == 0


async def test_a_correction_at_the_confirmation_edits_the_draft(
    person: Person, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tuesday 1 December, 10.00 WIB
    await person.say("/interview kamis jam 10 user")
    replies = await person.say("bukan, kamis minggu depan")
    assert "Interview user pada Kamis, 10 Desember 2026 pukul 10.00 WIB" in text_of(replies)
    replies = await person.say("jamnya 14.00")
    assert "Kamis, 10 Desember 2026 pukul 14.00 WIB. Sudah benar?" in text_of(replies)
    replies = await person.say("eh maksudnya 11 Desember jam 9 pagi")
    assert "Jumat, 11 Desember 2026 pukul 09.00 WIB" in text_of(replies)
    assert "Tersimpan!" in text_of(await person.say("ya"))
    assert await interviews(person) == 1


@pytest.mark.parametrize("text", ["hmm", "1", "apa ya", "kamu yakin?"])
async def test_what_is_no_correction_asks_the_confirmation_again(
    person: Person, clock: FakeClock, text: str
) -> None:
    clock.now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    await person.say("/interview besok 10.00")
    before = await person.state()
    assert "Pilih Simpan" in text_of(await person.say(text))
    assert await person.state() == before
