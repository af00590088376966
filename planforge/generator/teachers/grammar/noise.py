"""The noise model: what hurried typing does to a request, never to what the plan needs.

A noisy request gets one to three of: a typo (two letters swapped, one dropped or doubled, a neighbouring key),
an abbreviation from the grammar's list ("pls", "tmrw", "mins"), capitals dropped, or punctuation dropped.
Words inside the plan's literals (names, numbers, addresses, file and place names, messages) are never touched,
nor are digits or the words a date or a time is read from (only their listed abbreviations, like "tmrw", which
the recipe's date conventions read the same)."""

from __future__ import annotations

import random
import re

# words dates and times are read from: left as they are (an abbreviation listed for them may still replace them)
_TIME_WORDS = """today tonight tomorrow morning afternoon evening night noon lunchtime midnight monday tuesday
wednesday thursday friday saturday sunday next week weeks day days from to between and am pm eod end half hour
hours minutes mins minute quarter this in on at by a an the after"""
TIME_WORDS = frozenset(_TIME_WORDS.split())
_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def protected_spans(text: str, literals: list[str]) -> list[tuple[int, int]]:
    """Character spans of the request that say one of the plan's literals (any case)."""
    folded = text.casefold()
    spans = []
    for literal in literals:
        needle = literal.casefold()
        if len(needle) < 2:
            continue
        start = folded.find(needle)
        while start >= 0:
            spans.append((start, start + len(needle)))
            start = folded.find(needle, start + 1)
    return spans


def add_noise(text: str, literals: list[str], rng: random.Random, abbreviations: dict[str, list[str]]) -> str:
    spans = protected_spans(text, literals)
    edits = rng.sample(["typo", "abbreviation", "lowercase", "punctuation"], rng.randint(1, 3))
    for edit in edits:
        text = {"typo": _typo, "abbreviation": _abbreviate, "lowercase": _lowercase, "punctuation": _unpunctuate}[edit](
            text, spans, rng, abbreviations
        )
        spans = protected_spans(text, literals)
    return " ".join(text.split())


def _free(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return all(end <= a or start >= b for a, b in spans)


def _words(text: str, spans: list[tuple[int, int]]) -> list[re.Match[str]]:
    return [m for m in _WORD.finditer(text) if _free(m.start(), m.end(), spans)]


def _typo(text: str, spans, rng: random.Random, abbreviations: dict[str, list[str]]) -> str:
    short = {a.lower() for forms in abbreviations.values() for a in forms}  # "tmrw" must stay readable
    candidates = [m for m in _words(text, spans) if len(m.group()) >= 4 and m.group().lower() not in TIME_WORDS | short]
    candidates = [m for m in candidates if "'" not in m.group()]
    if not candidates:
        return text
    match = rng.choice(candidates)
    word = match.group()
    i = rng.randint(1, len(word) - 2)
    kind = rng.choice(["swap", "drop", "double", "neighbour"])
    if kind == "swap":
        typed = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    elif kind == "drop":
        typed = word[:i] + word[i + 1 :]
    elif kind == "double":
        typed = word[:i] + word[i] + word[i:]
    else:
        typed = word[:i] + _neighbour(word[i], rng) + word[i + 1 :]
    return text[: match.start()] + typed + text[match.end() :]


def _neighbour(letter: str, rng: random.Random) -> str:
    for row in _KEYBOARD:
        at = row.find(letter.lower())
        if at >= 0:
            options = [row[j] for j in (at - 1, at + 1) if 0 <= j < len(row)]
            return rng.choice(options)
    return letter


def _abbreviate(text: str, spans, rng: random.Random, abbreviations: dict[str, list[str]]) -> str:
    candidates = [m for m in _words(text, spans) if m.group().lower() in abbreviations]
    if not candidates:
        return text
    for match in sorted(rng.sample(candidates, min(len(candidates), rng.randint(1, 2))), key=lambda m: -m.start()):
        short = rng.choice(abbreviations[match.group().lower()])
        if match.group()[0].isupper():
            short = short[:1].upper() + short[1:]
        text = text[: match.start()] + short + text[match.end() :]
    return text


def _lowercase(text: str, spans, rng: random.Random, abbreviations) -> str:
    chars = list(text)
    for match in _words(text, spans):
        word = match.group()
        sentence_start = match.start() == 0 or text[: match.start()].rstrip()[-1:] in ".?!"
        if word == "I" or word.startswith(("I'", "I’")) or (sentence_start and word[0].isupper()):
            chars[match.start()] = word[0].lower()
    return "".join(chars)


def _unpunctuate(text: str, spans, rng: random.Random, abbreviations) -> str:
    out = []
    for i, char in enumerate(text):
        inside = not _free(i, i + 1, spans)
        if not inside and (char == "," or (char in ".!" and i == len(text) - 1) or char == "'"):
            continue
        out.append(char)
    return "".join(out)
