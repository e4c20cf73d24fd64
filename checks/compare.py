"""What a take should say against what the recognizer heard: both normalized, then compared token by token.

Normalizing takes away what speech cannot carry or what the recognizer writes its own way: punctuation,
full and half width (NFKC), case, traditional against simplified characters (zhconv), and numbers, which
are written out as they are read (cn2an in Chinese text, num2words in English) on both sides. Chinese is
compared character by character (CER) and everything else word by word (WER); in mixed text each script
is measured on its own and the error rate of the whole is the edits over all tokens. The edit distance and
alignment are rapidfuzz's.
"""

import re
import unicodedata
from dataclasses import dataclass, field

import cn2an
import zhconv
from num2words import num2words
from rapidfuzz.distance import Levenshtein

HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_CHAR = re.compile(f"[{HAN}]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:\.\d+)?%?")
# A token: one Han character (or kana), or a run of letters, digits and apostrophes.
_LETTER = f"(?:(?![{HAN}\u3040-\u30ff])[^\\W_])"
_TOKEN = re.compile(f"[{HAN}\u3040-\u30ff]|{_LETTER}+(?:'{_LETTER}+)*")


def is_han(token):
    return bool(_HAN_CHAR.match(token))


def _read_number(match):
    text, number = match.string, match.group()
    before = text[: match.start()].rstrip()[-1:]
    after = text[match.end() :].lstrip()[:1]
    if _HAN_CHAR.match(before) or _HAN_CHAR.match(after):
        # A year is read digit by digit in Chinese ("二零二四年"): cn2an knows that when it sees the 年.
        unit = "年" if text[match.end() : match.end() + 1] == "年" else ""
        try:
            return cn2an.transform(number + unit, "an2cn")[: -len(unit) or None]
        except (ValueError, KeyError):
            return number
    plain = number.rstrip("%").replace(",", "")
    try:
        words = num2words(float(plain) if "." in plain else int(plain))
    except (ValueError, OverflowError, NotImplementedError):
        return number
    return f" {words}{' percent' if number.endswith('%') else ''} "


def normalize(text):
    """The text as a list of tokens, ready to compare."""
    text = unicodedata.normalize("NFKC", text)
    text = zhconv.convert(text, "zh-cn")
    text = _NUMBER.sub(_read_number, text)
    text = text.lower().replace("-", " ")
    return _TOKEN.findall(text)


def join_tokens(tokens):
    """Tokens as text again: Han characters run together, words are spaced."""
    out = ""
    for token in tokens:
        if out and not (is_han(token) and is_han(out[-1])):
            out += " "
        out += token
    return out


@dataclass
class Comparison:
    expected: str  # the text compared against
    heard: str
    error_rate: float  # edits over all tokens of the expected text
    cer: float | None  # over its Chinese characters, None without any
    wer: float | None  # over its other words, None without any
    # The alignment: [{"op": "equal" | "replace" | "delete" | "insert", "expected": str, "heard": str}].
    diff: list = field(default_factory=list)

    @property
    def spans(self):
        """Only the places where the two differ."""
        return [chunk for chunk in self.diff if chunk["op"] != "equal"]


def compare(expected, heard):
    want, got = normalize(expected), normalize(heard)
    han_total = sum(1 for token in want if is_han(token))
    word_total = len(want) - han_total
    han_errors = word_errors = 0
    for op in Levenshtein.editops(want, got):
        token = got[op.dest_pos] if op.tag == "insert" else want[op.src_pos]
        if is_han(token):
            han_errors += 1
        else:
            word_errors += 1
    errors = han_errors + word_errors
    if want:
        rate = errors / len(want)
    else:
        rate = 0.0 if not got else 1.0
    diff = [
        {"op": op.tag, "expected": join_tokens(want[op.src_start : op.src_end]),
         "heard": join_tokens(got[op.dest_start : op.dest_end])}
        for op in Levenshtein.opcodes(want, got)
    ]  # fmt: skip
    return Comparison(
        expected=expected,
        heard=heard,
        error_rate=round(rate, 4),
        cer=round(han_errors / han_total, 4) if han_total else None,
        wer=round(word_errors / word_total, 4) if word_total else None,
        diff=diff,
    )


def best_comparison(candidates, heard):
    """The comparison with the candidate text closest to what was heard (the original, or as sent)."""
    return min((compare(text, heard) for text in dict.fromkeys(candidates)), key=lambda c: c.error_rate)


def sides(diff):
    """The two sides of a comparison for the page: [(text, marked)] for the expected text and the heard."""

    def side(key):
        parts = []
        for chunk in diff:
            if chunk[key]:
                parts.append((chunk[key], chunk["op"] != "equal"))
        # Pieces are spaced as their tokens are: no space between two Chinese characters.
        out = []
        for index, (text, marked) in enumerate(parts):
            space = index > 0 and not (is_han(parts[index - 1][0][-1]) and is_han(text[0]))
            out.append({"text": text, "marked": marked, "space": space})
        return out

    return side("expected"), side("heard")
