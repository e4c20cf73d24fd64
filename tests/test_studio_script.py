"""Reading scripts into lines: paragraphs and sentences in Chinese and English, speakers, pauses, Markdown,
and subtitle files, with every problem named by its line."""

import pytest

from studio import script
from studio.script import ScriptError, parse


def texts(source, format_name="auto"):
    return [line.text for line in parse(source, format_name).lines]


def problems(source, format_name="auto"):
    with pytest.raises(ScriptError) as caught:
        parse(source, format_name)
    return caught.value.problems


def test_paragraphs_are_lines_and_long_ones_are_cut_at_sentence_ends():
    short = "First paragraph. It is short.\n\nSecond paragraph, wrapped\nover two lines."
    assert texts(short) == ["First paragraph. It is short.", "Second paragraph, wrapped over two lines."]
    long = " ".join(f"Sentence number {n} is here." for n in range(40))
    lines = texts(long)
    assert len(lines) > 3 and all(len(line) <= script.LINE_TARGET_CHARS for line in lines)
    assert all(line.endswith(".") for line in lines)
    assert " ".join(lines) == long


def test_chinese_sentences_end_at_chinese_punctuation_and_wrapped_lines_join_without_spaces():
    source = "今天天气很好。" * 40 + "\n我们去公园吧！"
    lines = texts(source)
    assert all(line.endswith(("。", "！")) for line in lines)
    assert "".join(lines) == source.replace("\n", "")


def test_no_line_is_ever_over_the_providers_limit_even_without_punctuation():
    lines = texts("y" * 2500 + "\n\n" + "字" * 1500)
    assert all(len(line) <= 1024 for line in lines)
    assert "".join(lines) == "y" * 2500 + "字" * 1500


def test_the_limit_counts_what_is_spoken_not_the_pause_markup():
    line = "a" * 1020 + " [pause 1.5s] b"
    assert script.check_line_text(line) is None  # 1,022 characters spoken
    assert "1026 characters" in script.check_line_text("a" * 1020 + " [pause 1s] bcdef")


def test_speakers_are_read_in_english_and_chinese_but_headings_and_times_are_not_names():
    source = (
        "Alice: Hi there.\n旁白：夜深了。\nDr Watson: Indeed,\nsaid he.\n\nChapter 1: The start.\nMeet at 10:30 today."
    )
    assert [(line.speaker, line.text) for line in parse(source).lines] == [
        ("Alice", "Hi there."),
        ("旁白", "夜深了。"),
        ("Dr Watson", "Indeed, said he."),  # a line without a name goes on with the speaker's paragraph
        ("", "Chapter 1: The start. Meet at 10:30 today."),
    ]
    assert parse("Bob: one.\nAlice: two.\nBob: three.").speakers == ["Bob", "Alice"]


def test_pauses_become_silence_segments_in_any_spelling_we_accept():
    assert script.segments("One [pause 1.5s] two [pause 800ms] three [停顿 2秒] four [pause] five") == [
        ("speech", "One"),
        ("pause", 1.5),
        ("speech", "two"),
        ("pause", 0.8),
        ("speech", "three"),
        ("pause", 2.0),
        ("speech", "four"),
        ("pause", script.DEFAULT_PAUSE_SECONDS),
        ("speech", "five"),
    ]
    assert script.spoken_text("One [pause 1.5s] two") == "One two"


@pytest.mark.parametrize(
    "source, message",
    [
        ("Fine.\n\nHello [pause 10.5s] there.", "Line 3: A pause of 10.5 s is too long: at most 10 s."),
        ("Hello [pause a while] there.", "Line 1: “[pause a while]” is not a pause we can read"),
        ("[pause 2s]", "Line 1: The line has only pauses, no words to speak."),
        ("", "The script is empty."),
    ],
)
def test_bad_text_is_refused_naming_the_line(source, message):
    assert any(problem.startswith(message) for problem in problems(source)), problems(source)


def test_markdown_reads_as_prose_without_its_marks():
    source = """# The Title

Some *emphasis*, **strong** and a [link](https://example.com) ![img](x.png).

```
code is not read
```

- first item
- second item
> quoted words
---
"""
    assert texts(source, "markdown") == [
        "The Title",
        "Some emphasis, strong and a link.",
        "first item",
        "second item quoted words",
    ]


SRT = """1
00:00:01,000 --> 00:00:03,500
<i>Hello</i> there.

2
00:00:04,000 --> 00:00:06,000
Bob: Second cue,
on two lines.
"""


def test_srt_cues_become_lines_with_their_times_and_speakers():
    parsed = parse(SRT)
    assert parsed.format == "srt"
    assert [(line.text, line.speaker, line.cue_start, line.cue_end) for line in parsed.lines] == [
        ("Hello there.", "", 1.0, 3.5),
        ("Second cue, on two lines.", "Bob", 4.0, 6.0),
    ]


def test_every_problem_in_a_subtitle_file_is_named_by_its_line():
    broken = SRT + (
        "\n3\n00:00:09,000 --> 00:00:08,000\nBackwards.\n"
        "\n4\n00:00:10.000 -> 00:00:11,000\nArrow.\n"
        "\n5\n00:00:12,000 --> 00:00:13,000\n"
    )
    assert problems(broken) == [
        "Line 11: the cue ends (00:00:08,000) before it starts (00:00:09,000).",
        "Line 15: “00:00:10.000 -> 00:00:11,000” is not a cue timing such as 00:00:01,000 --> 00:00:04,000.",
        "Line 19: the cue has no text.",
    ]


VTT = """WEBVTT - a title

NOTE this is a comment

intro
00:01.000 --> 00:04.250 align:start
<v Alice>Hi, it's me.</v>

01:00:05.000 --> 01:00:06.000
旁白：一小时后。
"""


def test_webvtt_cues_with_voice_tags_and_optional_hours():
    lines = parse(VTT).lines
    assert [(line.text, line.speaker, line.cue_start, line.cue_end) for line in lines] == [
        ("Hi, it's me.", "Alice", 1.0, 4.25),
        ("一小时后。", "旁白", 3605.0, 3606.0),
    ]
    assert problems("WEBVTT\n\n00:01.000 --> 00:00.500\nBack.", "vtt") == [
        "Line 3: the cue ends (00:00:00,500) before it starts (00:00:01,000)."
    ]
    assert problems("Hello\n\n00:01.000 --> 00:02.000\nHi.", "vtt") == ["Line 1: a WebVTT file starts with “WEBVTT”."]


def test_captions_are_written_as_srt_and_webvtt():
    cues = [[0, 1.5, "Hello there."], [2.0, 3661.25, "Line --> two"]]
    assert script.srt(cues) == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n2\n00:00:02,000 --> 01:01:01,250\nLine --> two\n"
    )
    assert script.webvtt(cues) == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n00:00:02.000 --> 01:01:01.250\nLine -> two\n"
    )
    # What we write, we read back.
    assert [(line.cue_start, line.cue_end) for line in parse(script.webvtt(cues[:1])).lines] == [(0, 1.5)]
    assert [(line.cue_start, line.cue_end) for line in parse(script.srt(cues[:1])).lines] == [(0, 1.5)]
