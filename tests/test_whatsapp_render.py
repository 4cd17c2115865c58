"""WhatsApp rendering: pure functions from `Reply` to Cloud API message objects."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.whatsapp.render import (
    DEFAULT_PROMPT,
    MAX_BUTTON_BODY,
    MAX_BUTTON_TITLE,
    MAX_BUTTONS,
    MAX_LIST_BUTTON,
    MAX_LIST_ROWS,
    MAX_ROW_DESCRIPTION,
    MAX_ROW_TITLE,
    MAX_TEXT,
    measure,
    render,
    split_text,
)
from handlers.types import Button, Reply

# Characters the generated text never contains, so a prompt body can be told apart from
# text that came from a reply.
PROMPT = "⟪prompt⟫"
LIST_BUTTON = "Lihat pilihan"


def buttons(*labels: str) -> tuple[Button, ...]:
    return tuple(Button(label, f"v1:opt:{i}") for i, label in enumerate(labels))


def visible(text: str) -> str:
    return "".join(char for char in text if not char.isspace())


def paragraphs(count: int, size: int) -> str:
    """`count` paragraphs of about `size` characters, each word numbered so order shows."""
    words_each = size // 8
    return "\n\n".join(
        " ".join(f"p{p:02d}w{w:03d}" for w in range(words_each)) for p in range(count)
    )


def body(message: dict[str, Any]) -> str:
    if message["type"] == "text":
        text: str = message["text"]["body"]
    else:
        text = message["interactive"]["body"]["text"]
    return text


def sent_text(messages: list[dict[str, Any]], prompt: str = PROMPT) -> str:
    """What the user reads of the replies' text, prompts left out."""
    return "\n\n".join(body(m) for m in messages if body(m) != prompt)


def check_limits(message: dict[str, Any]) -> None:
    """Every limit WhatsApp puts on one message."""
    if message["type"] == "text":
        assert set(message) == {"type", "text"}
        assert message["text"]["preview_url"] is False
        text = message["text"]["body"]
        assert text.strip()
        assert measure(text) <= MAX_TEXT
        return
    assert message["type"] == "interactive"
    interactive = message["interactive"]
    text = interactive["body"]["text"]
    assert text.strip()
    if interactive["type"] == "button":
        assert measure(text) <= MAX_BUTTON_BODY
        options = interactive["action"]["buttons"]
        assert 1 <= len(options) <= MAX_BUTTONS
        assert all(option["type"] == "reply" for option in options)
        titles = [option["reply"]["title"] for option in options]
        assert all(1 <= measure(title) <= MAX_BUTTON_TITLE for title in titles)
    else:
        assert interactive["type"] == "list"
        assert measure(text) <= MAX_TEXT
        action = interactive["action"]
        assert 1 <= measure(action["button"]) <= MAX_LIST_BUTTON
        rows = [row for section in action["sections"] for row in section["rows"]]
        assert MAX_BUTTONS < len(rows) <= MAX_LIST_ROWS
        titles = [row["title"] for row in rows]
        assert all(1 <= measure(title) <= MAX_ROW_TITLE for title in titles)
        assert all(measure(row.get("description", "")) <= MAX_ROW_DESCRIPTION for row in rows)
    assert len(set(titles)) == len(titles), titles
    assert all(title == title.strip() and "\n" not in title for title in titles)


def options(message: dict[str, Any]) -> list[dict[str, str]]:
    """The buttons or rows of an interactive message, as (id, title[, description])."""
    interactive = message["interactive"]
    if interactive["type"] == "button":
        return [option["reply"] for option in interactive["action"]["buttons"]]
    return [row for section in interactive["action"]["sections"] for row in section["rows"]]


def test_plain_text_is_one_text_message_unchanged() -> None:
    # WhatsApp has no escaping: formatting marks and "<&>" go out exactly as written.
    text = "Halo *Rina*! Jawaban _bagus_ <b>&amp; ~rapi~ ```kode```"
    assert render([Reply(text)]) == [{"type": "text", "text": {"body": text, "preview_url": False}}]


def test_empty_reply_without_buttons_sends_nothing() -> None:
    assert render([Reply(""), Reply("  \n ")]) == []


def test_long_text_is_split_at_paragraphs_within_the_limit() -> None:
    text = paragraphs(12, 900)
    messages = render([Reply(text)])
    assert len(messages) > 1
    for message in messages:
        check_limits(message)
        # Every chunk starts and ends on a paragraph boundary: whole paragraphs only.
        for paragraph in body(message).split("\n\n"):
            assert paragraph in text.split("\n\n")
    assert visible(sent_text(messages)) == visible(text)


def test_split_text_falls_back_to_lines_words_then_characters() -> None:
    lines = "\n".join("baris " * 20 for _ in range(10))
    assert all(len(chunk) <= 300 and chunk.endswith("baris") for chunk in split_text(lines, 300))
    words = "kata " * 100
    assert all(chunk.endswith("kata") for chunk in split_text(words, 42))
    word = "x" * 250
    assert split_text(f"awal {word} akhir", 100) == [
        "awal",
        "x" * 100,
        "x" * 100,
        "x" * 50,
        "akhir",
    ]
    assert split_text(" \n\n ") == []


def test_split_text_counts_emoji_as_two_units() -> None:
    chunks = split_text("😀" * 5, 4)
    assert chunks == ["😀😀", "😀😀", "😀"]


@pytest.mark.parametrize("count", [2, 3])
def test_up_to_three_buttons_make_a_button_message(count: int) -> None:
    labels = ["Ya", "Tidak", "Nanti"][:count]
    [message] = render([Reply("Mulai latihan?", buttons(*labels))])
    check_limits(message)
    assert message == {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Mulai latihan?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"v1:opt:{i}", "title": label}}
                    for i, label in enumerate(labels)
                ]
            },
        },
    }


def test_five_buttons_make_a_list() -> None:
    labels = ("Pemasaran", "Keuangan", "Teknologi informasi dan data", "SDM", "Operasional")
    [message] = render([Reply("Bidang apa?", buttons(*labels))], list_button=LIST_BUTTON)
    check_limits(message)
    interactive = message["interactive"]
    assert interactive["type"] == "list"
    assert interactive["body"] == {"text": "Bidang apa?"}
    assert interactive["action"]["button"] == LIST_BUTTON
    rows = options(message)
    assert [row["id"] for row in rows] == [f"v1:opt:{i}" for i in range(5)]
    assert rows[0] == {"id": "v1:opt:0", "title": "Pemasaran"}
    # Too long for a row title: cut at a word, with the whole label underneath.
    assert rows[2] == {
        "id": "v1:opt:2",
        "title": "Teknologi informasi dan…",
        "description": "Teknologi informasi dan data",
    }


def test_long_button_label_is_cut_at_a_word() -> None:
    [message] = render([Reply("Lanjut?", buttons("Ulangi pertanyaan terakhir", "Selesai"))])
    check_limits(message)
    assert [option["title"] for option in options(message)] == ["Ulangi pertanyaan…", "Selesai"]


def test_long_row_label_description_is_cut_too() -> None:
    label = "Sangat panjang " * 10
    [message] = render([Reply("Pilih", buttons("a", "b", "c", label))])
    check_limits(message)
    row = options(message)[3]
    assert row["description"].endswith("…")
    assert row["description"].startswith("Sangat panjang Sangat")


def test_duplicate_titles_are_numbered() -> None:
    [message] = render([Reply("Pilih", buttons("Ya", "Ya", "Ya"))])
    check_limits(message)
    assert [option["title"] for option in options(message)] == ["Ya", "Ya 2", "Ya 3"]
    # Labels that only become equal once cut are numbered within the limit as well.
    same = "Jawaban versi pertama", "Jawaban versi perdana", "Jawaban versi pertengahan"
    [message] = render([Reply("Pilih", buttons(*same))])
    check_limits(message)
    assert [option["title"] for option in options(message)] == [
        "Jawaban versi…",
        "Jawaban versi… 2",
        "Jawaban versi… 3",
    ]
    rows = ["Satu", "Satu", "Dua", "Dua", "Satu 2"]
    [message] = render([Reply("Pilih", buttons(*rows))])
    check_limits(message)
    assert [row["title"] for row in options(message)] == [
        "Satu",
        "Satu 2",
        "Dua",
        "Dua 2",
        "Satu 2 2",
    ]


def test_several_plain_replies_are_merged() -> None:
    messages = render([Reply("Pertama."), Reply("Kedua."), Reply("Ketiga.")])
    assert [body(m) for m in messages] == ["Pertama.\n\nKedua.\n\nKetiga."]


def test_plain_replies_are_merged_only_while_they_fit() -> None:
    big = "a " * 1500  # 2,999 characters once stripped
    messages = render([Reply(big), Reply(big), Reply("akhir")])
    assert [len(body(m)) for m in messages] == [2999, 2999 + 2 + 5]
    for message in messages:
        check_limits(message)


def test_reply_with_buttons_after_plain_replies_takes_their_text() -> None:
    replies = [Reply("Bagus!"), Reply("Pertanyaan berikutnya."), Reply("Siap?", buttons("Ya"))]
    [message] = render(replies)
    assert message["interactive"]["type"] == "button"
    assert body(message) == "Bagus!\n\nPertanyaan berikutnya.\n\nSiap?"


def test_text_after_a_reply_with_buttons_starts_a_new_message() -> None:
    messages = render([Reply("Siap?", buttons("Ya")), Reply("Catatan."), Reply("Lagi.")])
    assert [m["type"] for m in messages] == ["interactive", "text"]
    assert body(messages[1]) == "Catatan.\n\nLagi."


def test_long_text_with_two_buttons_hangs_them_on_the_last_paragraph() -> None:
    text = paragraphs(1, 1200) + "\n\n" + "Mau lanjut ke pertanyaan berikutnya?"
    assert 1200 < len(text) <= 1500
    messages = render([Reply(text, buttons("Lanjut", "Berhenti"))], prompt=PROMPT)
    assert [m["type"] for m in messages] == ["text", "interactive"]
    assert body(messages[0]) == paragraphs(1, 1200)
    assert body(messages[1]) == "Mau lanjut ke pertanyaan berikutnya?"
    for message in messages:
        check_limits(message)


def test_long_text_without_a_short_ending_puts_buttons_under_the_prompt() -> None:
    text = paragraphs(1, 1500)
    messages = render([Reply(text, buttons("Lanjut", "Berhenti"))], prompt=PROMPT)
    assert [body(m) for m in messages] == [text, PROMPT]
    assert messages[1]["interactive"]["type"] == "button"


def test_default_prompt_is_used_without_one() -> None:
    messages = render([Reply(paragraphs(1, 1500), buttons("Lanjut"))])
    assert body(messages[-1]) == DEFAULT_PROMPT


def test_long_text_with_list_puts_last_chunk_in_the_body() -> None:
    text = paragraphs(10, 900)
    messages = render([Reply(text, buttons(*"abcde"))], prompt=PROMPT)
    assert messages[-1]["interactive"]["type"] == "list"
    assert PROMPT not in [body(m) for m in messages]
    for message in messages:
        check_limits(message)
    assert visible(sent_text(messages)) == visible(text)


def test_empty_text_with_buttons_uses_the_prompt() -> None:
    [message] = render([Reply("", buttons("Ya", "Tidak"))], prompt=PROMPT)
    assert body(message) == PROMPT
    [message] = render([Reply(" ", buttons(*"abcd"))], prompt=PROMPT)
    assert message["interactive"]["type"] == "list"
    assert body(message) == PROMPT


def test_empty_text_with_buttons_after_plain_text_takes_that_text() -> None:
    [message] = render([Reply("Sudah siap?"), Reply("", buttons("Ya"))], prompt=PROMPT)
    assert body(message) == "Sudah siap?"


def test_more_than_ten_buttons_keeps_ten_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    labels = [f"Pilihan {i}" for i in range(13)]
    with caplog.at_level(logging.WARNING, logger="bot.channels.whatsapp.render"):
        [message] = render([Reply("rahasia pengguna", buttons(*labels))])
    check_limits(message)
    assert [row["id"] for row in options(message)] == [f"v1:opt:{i}" for i in range(10)]
    [record] = caplog.records
    assert "13" in record.getMessage()
    assert "rahasia" not in record.getMessage()


def test_edit_flag_is_ignored() -> None:
    assert render([Reply("Halo", edit=True)]) == render([Reply("Halo")])


@pytest.mark.parametrize(
    ("prompt", "list_button"), [("", "Pilih"), ("x" * 1025, "Pilih"), ("Pilih:", "x" * 21)]
)
def test_bad_wording_is_refused(prompt: str, list_button: str) -> None:
    with pytest.raises(ValueError):
        render([Reply("Halo")], prompt=prompt, list_button=list_button)


# Text shaped like the coach's: words, lines and paragraphs, sometimes one huge word, with
# any characters at all (emoji, other scripts, odd whitespace) mixed in.
_chars = st.characters(exclude_characters="⟪⟫")  # lone surrogates included: JSON can carry them
_word = st.one_of(
    st.text(_chars, min_size=1, max_size=12),
    st.builds(lambda char, n: char * n, _chars, st.integers(20, 5000)),
)
_separator = st.sampled_from([" ", " ", " ", "\n", "\n\n", "\n \n\n", "\t", "  "])
_texts = st.one_of(
    st.text(_chars, max_size=300),
    st.lists(st.tuples(_word, _separator), max_size=400).map(
        lambda pairs: "".join(word + sep for word, sep in pairs)
    ),
)
_labels = st.one_of(
    st.sampled_from(["Ya", "Ya", "Tidak", "Jawaban versi pertama", "Jawaban versi kedua"]),
    st.text(_chars, max_size=40),
)
_replies = st.builds(
    lambda text, labels, edit: Reply(text, buttons(*labels), edit),
    _texts,
    st.one_of(st.just([]), st.lists(_labels, max_size=12)),
    st.booleans(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_replies, min_size=1, max_size=4))
def test_every_message_respects_every_limit_and_keeps_all_text(replies: list[Reply]) -> None:
    messages = render(replies, prompt=PROMPT, list_button=LIST_BUTTON)
    for message in messages:
        check_limits(message)
    assert visible(sent_text(messages)) == visible("".join(reply.text for reply in replies))
    # Every reply with buttons gets its first ten, in order, each under its own payload.
    sent_ids = [o["id"] for m in messages if m["type"] == "interactive" for o in options(m)]
    wanted = [b.payload for reply in replies for b in reply.buttons[:MAX_LIST_ROWS]]
    assert sent_ids == wanted


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts, st.integers(2, 5000))
def test_split_text_respects_the_limit_and_loses_nothing(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(chunk and chunk == chunk.strip() and measure(chunk) <= limit for chunk in chunks)
    assert visible("".join(chunks)) == visible(text)
