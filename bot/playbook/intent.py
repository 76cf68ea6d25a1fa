"""The first pause trigger: a Director must be able to say the intent in one sentence."""

from __future__ import annotations

import re

_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "mr.", "mrs.", "ms.", "dr.", "st.", "no.")
# Western stops need a space after them; the ideographic and full-width ones do not.
_SENTENCE_END = re.compile(r"(?:[.!?]+[\"')\]]*\s+|[。！？．]+[」』）\"')\]]*\s*)(?=\S)")
# Invisible characters that would hide a sentence break from the rule.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def sentence_count(text: str) -> int:
    """Count sentences, ignoring common abbreviations and decimals."""
    cleaned = _INVISIBLE.sub(" ", text).strip()
    for abbreviation in _ABBREVIATIONS:
        cleaned = re.sub(
            re.escape(abbreviation), abbreviation.replace(".", ""), cleaned, flags=re.I
        )
    cleaned = re.sub(r"(\d)\.(\d)", r"\1\2", cleaned)
    if not cleaned:
        return 0
    parts = [part for part in _SENTENCE_END.split(cleaned) if part.strip()]
    paragraphs = [line for line in cleaned.splitlines() if line.strip()]
    return max(len(parts), len(paragraphs))


def is_one_sentence(text: str) -> bool:
    return sentence_count(text) == 1
