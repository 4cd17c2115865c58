"""Feedback as the candidate reads it: answers typed into the chat, the way people type
on a phone, judged by the question's type, against a real database."""

from __future__ import annotations

import re

from tests.conftest import Person, text_of

SCORE = re.compile(r"skor (\d+)/100")


async def feedback_on(person: Person, question_id: str, answer: str) -> str:
    await person.practise(question_id)
    return text_of(await person.say(answer))


def score_of(text: str) -> int:
    found = SCORE.search(text)
    # An answer about something else is not scored at all.
    return int(found.group(1)) if found else 0


PHONE_STAR = (
    "thn lalu sy di tim payment, pas promo 12.12 checkout kita error rate nya naik ke 30%. "
    "tugas sy mulihin layanan secepatnya krn sy yg on-call. sy cek log sama dashboard, "
    "ternyata deploy sore itu bikin koneksi db bocor. sy rollback dlm 15 menit, trus "
    "kabarin tim di kanal insiden. hasilnya error turun ke 0,5% dan besoknya sy tulis "
    "postmortem, sejak itu gak pernah kejadian lagi."
)


async def test_a_phone_style_star_story_is_read_as_a_complete_story(person: Person) -> None:
    await person.say("/mode user")
    text = await feedback_on(person, "user-dev-q-035", PHONE_STAR)
    assert "Struktur STAR: lengkap (situasi, tugasmu, aksimu, hasil)" in text
    assert "Peranmu: jelas" in text
    assert "“30%”" in text
    # A typed story of 60-odd words is a script to speak from, not "too short".
    assert "terlalu tipis" not in text
    assert "Saat diucapkan, kembangkan jadi 2 sampai 3 menit" in text
    assert score_of(text) >= 75


async def test_kita_is_the_team_and_the_feedback_asks_for_the_candidates_part(
    person: Person,
) -> None:
    await person.say("/mode user")
    text = await feedback_on(
        person,
        "user-dev-q-035",
        "insiden paling berat waktu aplikasi kita down hampir 2 jam pas flash sale. "
        "waktu itu kita langsung cek log, trus ketemu ada deploy yg bikin memory leak. "
        "kita rollback ke versi sebelumnya dan pelan2 trafik normal lagi.",
    )
    assert "Peranmu: belum jelas" in text
    assert "peranmu terlihat jelas" not in text


async def test_numbers_that_prove_nothing_are_not_evidence(person: Person) -> None:
    text = await feedback_on(
        person,
        "hr-q-047",
        "1. Di tahun 2022 saya pegang migrasi ke Python 3.11 dan API v2 di kantor lama.\n"
        "2. Banyak error 500 dan masalah N+1 query yang muncul saat rilis, dan saya telat "
        "menyadarinya karena tidak memasang alert.\n"
        "3. Saya belajar untuk selalu cek log setelah rilis dan mengajak tim review bersama.",
    )
    assert "Bukti: belum ada angka yang bisa dicek" in text
    for label in ("“2022”", "“3.11”", "“500”", "“1.”"):
        assert label not in text


async def test_a_percentage_of_nothing_in_particular_is_not_evidence(person: Person) -> None:
    text = await feedback_on(
        person,
        "hr-q-047",
        "Pernah proyek laporan bulanan yang saya pegang telat dua minggu karena saya salah "
        "memperkirakan waktu. Setelah itu saya memecah pekerjaan jadi tugas harian dan "
        "melapor ke atasan tiap Jumat. Hasilnya dampaknya naik 40% dan efisiensi meningkat 3x.",
    )
    assert "“40%”" not in text and "“3x”" not in text
    # "dua minggu" late is a fact a recruiter can ask about; the percentages are not.
    assert "“dua minggu”" in text


async def test_durations_in_words_are_evidence(person: Person) -> None:
    text = await feedback_on(
        person,
        "hr-q-047",
        "Waktu itu saya memimpin rilis aplikasi kasir untuk 40 toko dan targetnya gagal "
        "karena saya tidak menguji koneksi yang lemah. Tugas saya memastikan rilis lancar. "
        "Saya minta maaf ke klien, lalu saya tambahkan mode offline. Hasilnya waktu rekap "
        "dari dua hari jadi tiga jam, dan sejak itu saya selalu uji di jaringan lambat.",
    )
    assert "“dua hari”" in text


async def test_a_definition_question_is_never_asked_for_a_story(person: Person) -> None:
    await person.say("/mode user")
    await person.say("/peran qa")
    text = await feedback_on(
        person,
        "user-qa-q-017",
        "Severity itu ukuran seberapa rusak sistemnya kalau bug itu terjadi, sedangkan "
        "priority itu urutan kapan bug dikerjakan menurut kepentingan bisnis. Misalnya "
        "menu ekspor PDF versi lama crash: severity tinggi, tapi hampir tidak ada yang "
        "memakainya, jadi priority rendah. Sebaliknya, logo klien terbalik di landing page "
        "sehari sebelum kampanye: severity rendah, priority tertinggi.",
    )
    assert "Penjelasan:" in text
    for story_words in ("STAR", "situasi", "cerita", "Peranmu"):
        assert story_words not in text
    assert score_of(text) >= 70


async def test_a_start_date_with_a_notice_period_is_a_complete_answer(person: Person) -> None:
    text = await feedback_on(
        person,
        "hr-q-040",
        "Saya bisa mulai sekitar satu bulan setelah tanda tangan kontrak, karena ada masa "
        "notice 30 hari di kantor sekarang untuk serah terima. Kalau dibutuhkan lebih cepat, "
        "saya bersedia diskusikan dengan atasan saya.",
    )
    assert "Jawaban praktis: lengkap (kapan bisa mulai, syarat atau catatanmu)" in text
    assert "STAR" not in text and "cerita" not in text


async def test_a_generic_motivation_is_called_generic_and_a_specific_one_is_not(
    person: Person,
) -> None:
    generic = await feedback_on(
        person,
        "hr-q-009",
        "Saya tertarik karena perusahaan ini terkenal, berkembang pesat, dan punya budaya "
        "kerja yang baik. Saya ingin berkembang dan belajar banyak di sini.",
    )
    assert "Terlalu umum" in generic
    specific = await feedback_on(
        person,
        "hr-q-009",
        "Saya pakai aplikasi ini untuk bayar BPJS keluarga tiap bulan, dan saya baca di blog "
        "engineering kalian soal migrasi ke Kafka untuk notifikasi pembayaran. Saya tiga "
        "tahun memegang layanan notifikasi di logistik, jadi saya ingin berkontribusi di tim "
        "pembayaran dan belajar sistem dengan jutaan transaksi.",
    )
    assert "Terlalu umum" not in specific
    assert score_of(specific) > score_of(generic) + 20


async def test_negative_talk_is_caught_in_soft_words_and_in_the_user_round(
    person: Person,
) -> None:
    hr = await feedback_on(
        person,
        "hr-q-016",
        "Di kantor sekarang saya merasa tidak dihargai. Atasan saya gonta-ganti prioritas "
        "dan banyak politik kantor, jadi saya mau cari tempat yang lebih baik.",
    )
    assert "Hati-hati:" in hr
    await person.say("/mode user")
    user_round = await feedback_on(
        person,
        "user-dev-q-035",
        "Waktu itu server down 3 jam karena deploy dari tim lama yang memang tidak becus. "
        "Manajer saya juga tidak jelas, jadi saya sendiri yang rollback dan pulihkan "
        "layanannya. Hasilnya layanan normal lagi dalam 20 menit.",
    )
    assert "Hati-hati:" in user_round


async def test_the_improvement_quotes_the_candidate_and_never_asks_for_what_is_there(
    person: Person,
) -> None:
    text = await feedback_on(
        person,
        "hr-q-047",
        "Waktu itu saya memimpin rilis aplikasi kasir di sebuah startup ritel. Tugas saya "
        "memastikan rilisnya lancar. Saya cek semua fitur bersama QA, lalu saya kabari "
        "toko. Hasilnya rilisnya lancar dan klien senang.",
    )
    advice = text.split("Satu hal untuk diperbaiki:")[1]
    assert "“" in advice and "rilisnya lancar" in advice
    assert "berapa angkanya" in advice
    assert "konteks" not in advice  # the situation is already there


async def test_a_developer_incident_is_checked_against_the_tech_leads_rubric(
    person: Person,
) -> None:
    await person.say("/mode user")
    text = await feedback_on(
        person,
        "user-umum-q-020",
        "Pertama saya pastikan alert-nya benar dan cek berapa pengguna yang terdampak di "
        "dashboard. Saya lihat ada deploy jam 23.00, jadi saya rollback dan buka kanal "
        "insiden untuk update tiap 15 menit. Saya juga eskalasi ke lead berikutnya.",
    )
    assert "Poin insiden:" in text
    assert "postmortem" in text.split("Poin insiden:")[1].splitlines()[0]


async def test_jakarta_english_on_topic_scores_like_a_good_answer(person: Person) -> None:
    await person.say("/mode user")
    text = await feedback_on(
        person,
        "user-umum-q-004",
        "Pernah, my mistake waktu itu. Sy ubah query report di payment service tanpa index, "
        "so pas traffic naik latency-nya jadi 6 detik dan 200 merchant komplain. My task "
        "waktu itu fix secepatnya, jadi sy revert dulu dlm 10 menit, terus cari root cause "
        "pakai EXPLAIN, ternyata full scan. I added index composite dan load test di staging. "
        "As a result latency balik ke 300 ms, dan since then gak pernah kejadian lagi.",
    )
    assert score_of(text) >= 70


STRONG_FAILURE = (
    "Tahun lalu saya memimpin peluncuran fitur cicilan di aplikasi koperasi, targetnya 500 "
    "pengajuan di bulan pertama tapi hanya tercapai 120. Tugas saya sebagai product "
    "engineer memastikan alurnya mudah. Saya wawancara 15 anggota dan ternyata form kami "
    "minta 12 dokumen. Lalu saya pangkas jadi 4 dokumen dan tambahkan unggah foto dari HP. "
    "Hasilnya dua bulan kemudian pengajuan naik ke 640 per bulan. Pelajarannya, sekarang "
    "saya selalu uji alur dengan lima pengguna sebelum rilis."
)
MEDIUM_FAILURE = (
    "Saya pernah gagal mengejar target rilis fitur laporan di kantor. Saya terlalu "
    "percaya diri dan tidak minta bantuan. Akhirnya rilisnya mundur, dan saya belajar "
    "untuk lebih cepat bilang ke atasan kalau ada kendala."
)
WEAK_FAILURE = "Saya jarang gagal sih, paling telat sedikit aja tapi tetap selesai."


TEMPLATE_FAILURE = (
    "Pernah suatu ketika proyek yang saya pegang gagal mencapai target karena kurang "
    "koordinasi. Tanggung jawab saya waktu itu memastikan proyek selesai tepat waktu. Setelah "
    "gagal, saya menganalisis penyebabnya, berkoordinasi dengan tim terkait, dan memperbaiki "
    "proses kerja kami. Saya juga memastikan semua pihak mendapat informasi perkembangan "
    "secara berkala. Hasilnya, pelajaran itu saya terapkan dan proyek berikutnya berjalan "
    "lancar, tim puas, dan dampaknya sangat positif bagi perusahaan. Dari situ saya belajar "
    "bahwa kegagalan adalah guru terbaik."
)


async def test_a_story_that_ticks_every_box_but_names_nothing_is_called_a_template(
    person: Person,
) -> None:
    template = await feedback_on(person, "hr-q-047", TEMPLATE_FAILURE)
    medium = score_of(await feedback_on(person, "hr-q-047", MEDIUM_FAILURE))
    # The weakest band, with the gamed answers: well below an honest medium story.
    assert score_of(template) <= 10 < medium
    assert "jawaban hafalan" in template
    # The advice quotes the candidate's own claim that measures nothing and asks for the
    # real event behind it.
    quoted = template.split("ganti “")[1].split("”")[0].rstrip(" …")
    assert quoted and quoted in TEMPLATE_FAILURE
    assert "nama fiturnya" in template


async def test_a_tool_named_in_lowercase_or_in_two_words_makes_a_story_concrete(
    person: Person,
) -> None:
    named = TEMPLATE_FAILURE.replace(
        "proyek yang saya pegang", "proyek dashboard penjualan di power bi yang saya pegang"
    )
    text = await feedback_on(person, "hr-q-047", named)
    assert "jawaban hafalan" not in text
    assert "Belum ada detail konkret" not in text
    assert score_of(text) > score_of(await feedback_on(person, "hr-q-047", TEMPLATE_FAILURE))


async def test_better_answers_score_higher_and_gamed_ones_no_higher_than_weak(
    person: Person,
) -> None:
    question = person.app.coach.library.question("hr-q-047")
    assert question is not None
    strong = score_of(await feedback_on(person, "hr-q-047", STRONG_FAILURE))
    medium = score_of(await feedback_on(person, "hr-q-047", MEDIUM_FAILURE))
    weak = score_of(await feedback_on(person, "hr-q-047", WEAK_FAILURE))
    assert strong > medium > weak

    gamed = {
        "cue words and numbers": (
            "Situasinya waktu itu ada target. Tugas saya mencapai target. Langkah pertama "
            "saya melakukan aksi. Hasilnya naik 50% dan berhasil 30%."
        ),
        "the keyword list": "Saya punya pengalaman. " + ", ".join(question.keywords),
        "the outline": "\n".join(question.outline),
        "one sentence five times": " ".join(["Saya belajar banyak dari kegagalan itu."] * 5),
        "the question copied": f"{question.text} {question.text}",
        "a cat on Mars": (
            "Waktu itu kucing saya tinggal di Mars dan sering lapar. Tugas saya memberi makan "
            "kucing itu setiap 3 jam. Saya memutuskan membeli roket baru seharga 5 juta. "
            "Hasilnya berat badan kucing saya naik 80% dalam dua minggu."
        ),
    }
    for kind, answer in gamed.items():
        text = await feedback_on(person, "hr-q-047", answer)
        assert score_of(text) <= weak, kind
        # The feedback never hands back a keyword list to paste.
        assert ", ".join(k.split("|")[0] for k in question.keywords) not in text, kind
