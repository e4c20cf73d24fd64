"""Splitting long texts for speech: the provider takes at most 1024 characters a call."""

import re

# A sentence ends at Chinese or Western end punctuation (with any closing quotes) or a line break.
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…\n])[”’\"')）]*\s*|(?<=[.])[”’\"')）]*\s+")
_CLAUSE_END = re.compile(r"(?<=[，,、：:])\s*")


def split_text(text, limit):
    """Parts of at most `limit` characters, cut at sentence ends, else at clauses, else anywhere."""
    parts, current = [], ""
    for piece in _pieces(text.strip(), limit):
        if current and len(current) + len(piece) > limit:
            parts.append(current.strip())
            current = ""
        current += piece
    if current.strip():
        parts.append(current.strip())
    return parts


def _pieces(text, limit):
    for sentence in _split_keeping(text, _SENTENCE_END):
        if len(sentence) <= limit:
            yield sentence
            continue
        for clause in _split_keeping(sentence, _CLAUSE_END):
            # A clause longer than the limit has no good place to cut: cut it evenly.
            for start in range(0, len(clause), limit):
                yield clause[start : start + limit]


def _split_keeping(text, pattern):
    pieces, start = [], 0
    for match in pattern.finditer(text):
        if match.end() > start:
            pieces.append(text[start : match.end()])
            start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return [p for p in pieces if p.strip()]
