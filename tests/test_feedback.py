from __future__ import annotations

import pytest

from content.loader import Library, load_library
from content.schema import Question
from handlers.feedback import analyze, render

INCIDENT = Question(
    id="test-incident",
    mode="user",
    role="developer",
    topics=("production_incident",),
    text="Server production down jam 2 pagi. Apa yang kamu lakukan?",
    looking_for="Ketenangan, prioritas memulihkan layanan, dan komunikasi.",
    outline=("Pulihkan layanan dulu", "Cari akar masalah", "Tulis postmortem"),
    keywords=("rollback", "log", "monitor|monitoring|alert", "postmortem", "komunikasi|kabari"),
    follow_ups=("Bagaimana kamu mencegahnya terulang?",),
)

MOTIVATION = Question(
    id="test-motivation",
    mode="hr",
    role="umum",
    topics=("motivation",),
    text="Kenapa kamu ingin pindah dari kantor sekarang?",
    looking_for="Alasan yang menatap ke depan, bukan keluhan.",
    outline=("Apa yang sudah kamu pelajari", "Apa yang kamu cari", "Kenapa di sini"),
    keywords=("belajar", "tantangan", "produk", "kontribusi|berkontribusi"),
    follow_ups=("Apa yang membuatmu bertahan di kantor sekarang?",),
)

STRONG_INCIDENT = (
    "Waktu itu saya on-call di tim payment sebuah e-commerce, dan pada pukul 02.00 alert "
    "error rate checkout naik ke 35%. Tugas saya memulihkan layanan secepatnya. Pertama saya "
    "cek log dan dashboard monitoring, lalu saya lihat lonjakan error dimulai tepat setelah "
    "deploy pukul 23.30. Saya putuskan rollback ke versi sebelumnya sambil kabari channel "
    "incident setiap 15 menit. Hasilnya, dalam 12 menit error rate turun ke 0,2% dan transaksi "
    "kembali normal. Paginya saya menulis postmortem tanpa menyalahkan siapa pun, dan kami "
    "menambah tes integrasi untuk kasus itu, sehingga insiden serupa tidak terulang selama "
    "enam bulan berikutnya."
)
WEAK_INCIDENT = "Ya saya cek aja eh servernya, terus kayak restart gitu sih."


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def test_strong_star_answer_with_numbers_scores_far_above_a_vague_one(library: Library) -> None:
    cues = library.feedback_cues()
    strong = analyze(STRONG_INCIDENT, INCIDENT, "user", cues)
    weak = analyze(WEAK_INCIDENT, INCIDENT, "user", cues)

    assert strong.star_missing == ()
    assert "35%" in strong.evidence
    assert set(strong.keywords_covered) == {
        "rollback",
        "log",
        "monitor",
        "postmortem",
        "komunikasi",
    }
    assert strong.score >= 80

    assert weak.length_verdict == "short"
    assert weak.evidence == ()
    assert {"eh", "kayak", "gitu", "sih"} <= set(weak.fillers)
    assert weak.improvement == "too_short"
    assert weak.score <= 30
    assert strong.score - weak.score >= 50


def test_rendered_feedback_names_gaps_the_fix_and_the_outline(library: Library) -> None:
    cues = library.feedback_cues()
    weak_text = render(analyze(WEAK_INCIDENT, INCIDENT, "user", cues), INCIDENT, library.messages)
    strong_text = render(
        analyze(STRONG_INCIDENT, INCIDENT, "user", cues), INCIDENT, library.messages
    )

    assert "Terlalu singkat untuk interview sungguhan; targetkan 45 detik sampai 3 menit" in (
        weak_text
    )
    assert "belum ada angka" in weak_text
    assert "“eh” 1x" in weak_text
    assert "Poin kunci: belum ada yang tersebut. Yang dicari: rollback, log" in weak_text
    assert "Satu hal untuk diperbaiki: tambah satu contoh nyata" in weak_text
    assert "1. Pulihkan layanan dulu\n2. Cari akar masalah\n3. Tulis postmortem" in weak_text

    assert "STAR: lengkap" in strong_text
    assert "Poin kunci: semua tersebut" in strong_text
    assert "Kata pengisi: bersih" in strong_text


def test_speaking_time_follows_the_word_count(library: Library) -> None:
    report = analyze(STRONG_INCIDENT, INCIDENT, "user", library.feedback_cues())
    assert report.words == len(STRONG_INCIDENT.split())
    assert report.seconds == round(report.words / 125 * 60)


def test_badmouthing_a_former_employer_is_flagged_in_hr_mode(library: Library) -> None:
    answer = (
        "Saya ingin pindah karena atasan saya toxic dan kantor lama saya kacau sekali. "
        "Saya ingin tempat yang lebih baik dan gaji yang lebih besar, itu saja sebenarnya."
    )
    cues = library.feedback_cues()
    hr = analyze(answer, MOTIVATION, "hr", cues)
    assert set(hr.negative_talk) == {"toxic", "kacau"}
    assert hr.improvement == "negative"
    text = render(hr, MOTIVATION, library.messages)
    assert "menjelekkan tempat kerja lama (“toxic”, “kacau”)" in text

    positive = (
        "Selama tiga tahun di kantor sekarang saya belajar banyak soal sistem pembayaran. "
        "Sekarang saya mencari tantangan di produk dengan skala lebih besar, dan saya lihat "
        "di sini saya bisa berkontribusi langsung ke produk yang dipakai dua juta pengguna."
    )
    calm = analyze(positive, MOTIVATION, "hr", cues)
    assert calm.negative_talk == ()
    assert calm.score > hr.score + 25


def test_kami_heavy_answer_is_pointed_out(library: Library) -> None:
    answer = (
        "Di proyek itu kami membangun fitur baru, kami membagi tugas, kami mengerjakan API, "
        "lalu kami uji bersama dan kami rilis. Hasilnya bagus dan semua senang."
    )
    report = analyze(answer, INCIDENT, "user", library.feedback_cues())
    assert report.kami == 5
    assert report.saya == 0
    text = render(report, INCIDENT, library.messages)
    assert "sulit melihat peranmu sendiri" in text


def test_numbers_weigh_more_in_the_user_round(library: Library) -> None:
    # No numbers: in the user round that is the first thing to fix, in HR it is not.
    answer = (
        "Saat itu saya diminta menangani keluhan pelanggan yang marah. Saya dengarkan dulu, "
        "lalu saya jelaskan langkah perbaikannya dengan bahasa sederhana. Akhirnya pelanggan "
        "itu tenang dan tetap memakai produk kami, dan saya belajar untuk lebih sabar. "
        "Setelah kejadian itu saya menulis catatan singkat untuk tim support tentang cara "
        "menjawab keluhan serupa, lalu saya ajak mereka latihan bersama supaya cara "
        "menjawabnya seragam. Sejak itu keluhan sejenis lebih jarang naik ke atasan, dan tim "
        "merasa lebih percaya diri saat menghadapi pelanggan yang sedang emosi. Dari situ "
        "saya paham bahwa mendengarkan dengan sabar sering lebih penting daripada langsung "
        "membela diri atau menjelaskan hal teknis."
    )
    with_number = answer + " Dalam dua bulan, keluhan yang naik ke atasan turun 40%."
    cues = library.feedback_cues()
    assert analyze(answer, INCIDENT, "user", cues).improvement == "evidence"
    assert analyze(with_number, INCIDENT, "user", cues).improvement != "evidence"

    def gain(mode: str) -> int:
        question = INCIDENT if mode == "user" else MOTIVATION
        before = analyze(answer, question, mode, cues).score
        return analyze(with_number, question, mode, cues).score - before

    # Proof with numbers is worth more in the user round than in the HR round.
    assert gain("user") > gain("hr") > 0


def test_short_but_complete_story_is_asked_for_depth_not_another_example(
    library: Library,
) -> None:
    answer = (
        "Saat itu API pembayaran kami lambat, p95 naik ke 2 detik. Tugas saya mencari "
        "penyebabnya. Saya profiling query dan menambah index. Hasilnya p95 turun 70% "
        "jadi 600 ms dalam 3 hari."
    )
    report = analyze(answer, INCIDENT, "user", library.feedback_cues())
    assert report.length_verdict == "short"
    assert report.star_missing == ()
    assert report.improvement == "thin"
    text = render(report, INCIDENT, library.messages)
    assert "Satu hal untuk diperbaiki: ceritamu sudah runtut, tinggal diperdalam" in text
    assert "tambah satu contoh nyata" not in text
