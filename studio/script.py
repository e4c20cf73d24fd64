"""Reading a script: plain text, Markdown or subtitles (.srt, .vtt) into the lines of a project.

A line is what one take speaks: a paragraph, or a few of its sentences, never more than the provider
takes in one call once markup is removed. Text may name its speaker (`Alice: ...`, `旁白：...`) and hold
pauses (`[pause 1.5s]`), which become silence, never spoken words. Anything we cannot read is refused
with the line (or cue) it is on and why, all such problems at once.
"""

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from clones.bigmodel import SPEECH_MAX_CHARS
from clones.text import split_text

# Lines are grouped sentences of about this many characters: short enough to redo one sentence's worth,
# long enough that a narration does not turn into hundreds of lines.
LINE_TARGET_CHARS = 200
MAX_PAUSE_SECONDS = 10.0
DEFAULT_PAUSE_SECONDS = 0.5
MAX_ERRORS = 20

# `[pause 1.5s]`, `[pause 800ms]`, `[pause]`, `[停顿 2秒]`, `[停顿2]`.
_PAUSE = re.compile(
    r"\[\s*(?:pause|停顿)\s*(?:(\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?|毫秒|秒)?)?\s*\]",
    re.IGNORECASE,
)
# Something that looks like pause markup but that we cannot read, such as `[pause long]`.
_PAUSE_LIKE = re.compile(r"\[\s*(?:pause|停顿)[^\]]*\]", re.IGNORECASE)
# A speaker's name before a colon at the start of a line: at most 30 characters and 4 words, no digits
# and no sentence punctuation, so "Chapter 1:" or "Meeting at 10:30" are not taken for names.
_SPEAKER = re.compile(
    r"^\s*([^\s:：\[\]\d.,!?;。，！？；、\"“”'‘’()（）#*>-]"  # not a digit, quote, bracket or Markdown mark
    r"[^:：\[\]\d.,!?;。，！？；\"“”()（）]{0,29}?)"
    r"\s*(?::\s+|：\s*)(?=\S)"
)
# A sentence ends at Chinese or Western end punctuation, with any closing quotes or brackets after it.
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…])[”’\"')）]*\s*|(?<=[.])[”’\"')）]*\s+")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


class ScriptError(ValueError):
    """The script cannot be read; `problems` are messages for the user, each naming its line."""

    def __init__(self, problems):
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass
class ScriptLine:
    text: str  # as the owner edits it: with pause markup, without the speaker's name
    speaker: str = ""
    cue_start: float | None = None  # seconds, for lines that came from a subtitle cue
    cue_end: float | None = None
    source_line: int = 0  # where in the file it starts, for messages


@dataclass
class Script:
    format: str
    lines: list[ScriptLine] = field(default_factory=list)

    @property
    def speakers(self):
        """The speakers' names in order of first appearance."""
        return list(dict.fromkeys(line.speaker for line in self.lines if line.speaker))


# -- pauses ------------------------------------------------------------------------------------------


def segments(text):
    """The text as [("speech", text) | ("pause", seconds)], in order; raises ValueError for a bad pause."""
    result, start = [], 0
    for match in _PAUSE_LIKE.finditer(text):
        speech = text[start : match.start()].strip()
        if speech:
            result.append(("speech", speech))
        result.append(("pause", pause_seconds(match.group(0))))
        start = match.end()
    rest = text[start:].strip()
    if rest:
        result.append(("speech", rest))
    return result


def pause_seconds(markup):
    match = _PAUSE.fullmatch(markup.strip())
    if match is None:
        raise ValueError(_("“%(markup)s” is not a pause we can read: write it like [pause 1.5s].") % {"markup": markup})
    number, unit = match.groups()
    seconds = float(number) if number else DEFAULT_PAUSE_SECONDS
    if unit and unit.lower() in ("ms", "毫秒"):
        seconds /= 1000
    if seconds > MAX_PAUSE_SECONDS:
        raise ValueError(
            _("A pause of %(seconds)g s is too long: at most %(limit)g s.")
            % {"seconds": seconds, "limit": MAX_PAUSE_SECONDS}
        )
    return seconds


def spoken_text(text):
    """What the provider hears: the text without its pause markup."""
    return " ".join(piece for kind, piece in segments_lenient(text) if kind == "speech")


def segments_lenient(text):
    return [("speech", piece.strip()) for piece in _PAUSE_LIKE.split(text) if piece.strip()]


def check_line_text(text):
    """The problem with one line's text (as a message), or None."""
    if not text.strip():
        return _("The line is empty.")
    try:
        parts = segments(text)
    except ValueError as exc:
        return str(exc)
    spoken = spoken_text(text)
    if not any(kind == "speech" for kind, _piece in parts):
        return _("The line has only pauses, no words to speak.")
    if len(spoken) > SPEECH_MAX_CHARS:
        return _("The line has %(count)d characters to speak; the voice service takes at most %(limit)d at once.") % {
            "count": len(spoken),
            "limit": SPEECH_MAX_CHARS,
        }
    return None


# -- splitting prose -------------------------------------------------------------------------------


def _join(left, right):
    if not left:
        return right
    if _CJK.match(left[-1]) and _CJK.match(right[0]):
        return left + right
    return f"{left} {right}"


def _sentences(text):
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() > start:
            pieces.append(text[start : match.end()].strip())
            start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _too_long_pieces(sentence):
    """A sentence over the provider's limit, cut at clauses or evenly (pause markup left whole)."""
    if len(spoken_text(sentence)) <= SPEECH_MAX_CHARS:
        return [sentence]
    return split_text(sentence, SPEECH_MAX_CHARS)


def split_paragraph(text, target=LINE_TARGET_CHARS):
    """A paragraph's sentences, grouped into lines of about `target` spoken characters."""
    lines, current = [], ""
    for sentence in _sentences(text):
        for piece in _too_long_pieces(sentence):
            if current and len(spoken_text(_join(current, piece))) > target:
                lines.append(current)
                current = ""
            current = _join(current, piece)
    if current:
        lines.append(current)
    return lines


def _speaker_of(text):
    match = _SPEAKER.match(text)
    if match is None or len(match.group(1).split()) > 4:
        return "", text
    return match.group(1).strip(), text[match.end() :]


@dataclass
class _Paragraph:
    text: str
    speaker: str
    source_line: int


def _paragraphs(raw_lines):
    """(number, text) lines into paragraphs: a blank line ends one, a speaker's name starts one."""
    paragraphs, current = [], None
    for number, raw in raw_lines:
        stripped = raw.strip()
        if not stripped:
            current = None
            continue
        speaker, rest = _speaker_of(stripped)
        if current is None or speaker:
            current = _Paragraph(rest.strip(), speaker, number)
            paragraphs.append(current)
        else:
            current.text = _join(current.text, stripped)
    return paragraphs


def _lines_of_paragraphs(paragraphs):
    lines = []
    for paragraph in paragraphs:
        for text in split_paragraph(paragraph.text):
            lines.append(ScriptLine(text=text, speaker=paragraph.speaker, source_line=paragraph.source_line))
    return lines


def parse_plain(text):
    return _lines_of_paragraphs(_paragraphs(enumerate(text.split("\n"), start=1)))


_MD_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_MD_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_MD_IMAGE = re.compile(r"\s*!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1")
_HTML_TAG = re.compile(r"<[^>]+>")


def _markdown_inline(text):
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    for _round in range(3):  # nested emphasis, such as ***both***
        text = _MD_EMPHASIS.sub(r"\2", text)
    return text


def parse_markdown(text):
    """Headings and list items are lines of their own; code blocks, images, rules and tags are not read."""
    raw_lines, in_code = [], False
    for number, raw in enumerate(text.split("\n"), start=1):
        if _MD_FENCE.match(raw):
            in_code = not in_code
            raw_lines.append((number, ""))
            continue
        if in_code or _MD_RULE.match(raw):
            raw_lines.append((number, ""))
            continue
        raw = re.sub(r"^\s*>\s?", "", raw)  # a quote reads as what it quotes
        heading = _MD_HEADING.match(raw)
        if heading:
            raw_lines.extend([(number, ""), (number, _markdown_inline(heading.group(1))), (number, "")])
        elif _MD_LIST.match(raw):
            raw_lines.extend([(number, ""), (number, _markdown_inline(_MD_LIST.sub("", raw)))])
        else:
            raw_lines.append((number, _markdown_inline(raw)))
    return _lines_of_paragraphs(_paragraphs(raw_lines))


# -- subtitles -------------------------------------------------------------------------------------

_SRT_TIME = r"(\d{1,3}):(\d{2}):(\d{2})[,.](\d{1,3})"
_SRT_TIMING = re.compile(rf"^{_SRT_TIME}\s*-->\s*{_SRT_TIME}\s*$")
_VTT_TIME = r"(?:(\d{1,3}):)?(\d{2}):(\d{2})\.(\d{3})"
_VTT_TIMING = re.compile(rf"^{_VTT_TIME}\s+-->\s+{_VTT_TIME}(?:\s+.*)?$")
_VTT_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_ASS_TAG = re.compile(r"\{\\[^}]*\}")


def _seconds(hours, minutes, seconds, fraction):
    if int(minutes) > 59 or int(seconds) > 59:
        raise ValueError
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction.ljust(3, "0")) / 1000


def _blocks(text):
    """Blocks separated by blank lines, as lists of (line number, text)."""
    blocks, current = [], []
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw.strip():
            current.append((number, raw.rstrip()))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _cue(problems, timing_number, start, end, text_lines, *, voice=""):
    if end <= start:
        problems.append(
            _("Line %(line)d: the cue ends (%(end)s) before it starts (%(start)s).")
            % {"line": timing_number, "start": format_timestamp(start), "end": format_timestamp(end)}
        )
        return None
    text = " ".join(_ASS_TAG.sub("", _HTML_TAG.sub("", t)).strip() for t in text_lines).strip()
    if not text:
        problems.append(_("Line %(line)d: the cue has no text.") % {"line": timing_number})
        return None
    speaker, rest = _speaker_of(text)
    return ScriptLine(
        text=rest.strip(), speaker=voice or speaker, cue_start=start, cue_end=end, source_line=timing_number
    )


def parse_srt(text):
    lines, problems = [], []
    for block in _blocks(text):
        index = 0
        if block[0][1].strip().isdigit():
            index = 1
        if index >= len(block):
            problems.append(_("Line %(line)d: a cue number with no timing after it.") % {"line": block[0][0]})
            continue
        number, timing = block[index]
        match = _SRT_TIMING.match(timing.strip())
        try:
            start, end = (_seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])) if match else (None, None)
        except ValueError:
            match = None
        if match is None:
            problems.append(
                _("Line %(line)d: “%(text)s” is not a cue timing such as 00:00:01,000 --> 00:00:04,000.")
                % {"line": number, "text": timing.strip()[:60]}
            )
            continue
        cue = _cue(problems, number, start, end, [t for _n, t in block[index + 1 :]])
        if cue:
            lines.append(cue)
    if problems:
        raise ScriptError(problems)
    return lines


def parse_vtt(text):
    blocks = _blocks(text)
    if not blocks or not blocks[0][0][1].startswith("WEBVTT"):
        raise ScriptError([_("Line 1: a WebVTT file starts with “WEBVTT”.")])
    lines, problems = [], []
    for block in blocks[1:]:
        first = block[0][1].strip()
        if first.startswith(("NOTE", "STYLE", "REGION")):
            continue
        index = 0 if "-->" in first else 1
        if index >= len(block) or "-->" not in block[index][1]:
            problems.append(
                _("Line %(line)d: “%(text)s” is not a cue timing such as 00:01.000 --> 00:04.000.")
                % {"line": block[min(index, len(block) - 1)][0], "text": block[min(index, len(block) - 1)][1][:60]}
            )
            continue
        number, timing = block[index]
        match = _VTT_TIMING.match(timing.strip())
        try:
            start, end = (_seconds(*match.groups()[:4]), _seconds(*match.groups()[4:8])) if match else (None, None)
        except ValueError:
            match = None
        if match is None:
            problems.append(
                _("Line %(line)d: “%(text)s” is not a cue timing such as 00:01.000 --> 00:04.000.")
                % {"line": number, "text": timing.strip()[:60]}
            )
            continue
        text_lines = [t for _n, t in block[index + 1 :]]
        voice = next((m.group(1).strip() for t in text_lines for m in [_VTT_VOICE.search(t)] if m), "")
        cue = _cue(problems, number, start, end, text_lines, voice=voice)
        if cue:
            lines.append(cue)
    if problems:
        raise ScriptError(problems)
    return lines


# -- the whole script ----------------------------------------------------------------------------------

FORMATS = ("plain", "markdown", "srt", "vtt")


def detect_format(text, filename=""):
    name = filename.lower()
    for suffix, format_name in ((".srt", "srt"), (".vtt", "vtt"), (".md", "markdown"), (".markdown", "markdown")):
        if name.endswith(suffix):
            return format_name
    head = text.lstrip()
    if head.startswith("WEBVTT"):
        return "vtt"
    if re.match(r"\d+\s*\n\s*\d{1,3}:\d{2}:\d{2}[,.]\d{1,3}\s*-->", head):
        return "srt"
    return "plain"


def parse(text, format_name="auto", filename=""):
    """The script's lines, or ScriptError listing every problem, each with its line number."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if format_name == "auto":
        format_name = detect_format(text, filename)
    if not text.strip():
        raise ScriptError([_("The script is empty.")])
    parser = {"plain": parse_plain, "markdown": parse_markdown, "srt": parse_srt, "vtt": parse_vtt}[format_name]
    lines = parser(text)
    problems = []
    for line in lines:
        problem = check_line_text(line.text)
        if problem:
            problems.append(_("Line %(line)d: %(problem)s") % {"line": line.source_line, "problem": problem})
    if problems:
        raise ScriptError(problems[:MAX_ERRORS])
    if not lines:
        raise ScriptError([_("The script has nothing to speak.")])
    return Script(format=format_name, lines=lines)


# -- captions --------------------------------------------------------------------------------------


def format_timestamp(seconds, separator=","):
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def srt(cues):
    """SubRip captions from [(start, end, text)]."""
    blocks = [
        f"{number}\n{format_timestamp(start)} --> {format_timestamp(end)}\n{text}\n"
        for number, (start, end, text) in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def webvtt(cues):
    """WebVTT captions from [(start, end, text)]; `-->` cannot appear in a cue's text."""
    blocks = [
        f"{format_timestamp(start, '.')} --> {format_timestamp(end, '.')}\n{text.replace('-->', '->')}\n"
        for start, end, text in cues
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)
