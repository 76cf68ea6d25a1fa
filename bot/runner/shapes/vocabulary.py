"""The `shapes` model's tokenizer: CLIP's byte-level BPE, with every vocabulary word one token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.runner.shapes import scenes

WORDS = sorted(
    {
        *[
            "a",
            "an",
            "and",
            "on",
            "the",
            "in",
            "at",
            "background",
            "of",
            "with",
            "shape",
            "make",
            "it",
        ],
        *scenes.SHAPES,
        *scenes.COLOURS,
        *scenes.SIZES,
        *scenes.POSITIONS,
        "center",
        *(word for names in scenes.STYLES.values() for name in names for word in name.split()),
    }
)


def build_tokenizer(folder: Path) -> Any:
    """CLIP's byte-level BPE with merges that make each vocabulary word one token; any other
    word still tokenizes, letter by letter, so nothing is refused."""
    from transformers import CLIPTokenizer

    from bot.runner.models import _byte_symbols

    folder.mkdir(parents=True, exist_ok=True)
    symbols = _byte_symbols()
    vocab = {symbol: index for index, symbol in enumerate(symbols)}
    for symbol in symbols:
        vocab[symbol + "</w>"] = len(vocab)
    merges: list[tuple[str, str]] = []
    for word in WORDS:
        _merge_chain(merges, vocab, [*word[:-1], word[-1] + "</w>"])
    # BPE applies merges by rank, so one word's chain can cut into another's ("ar" of "art" in
    # "large"): chain the pieces each word actually ends in until every word is one token.
    for _ in range(20):
        split = {word: pieces for word in WORDS if len(pieces := _bpe(word, merges)) > 1}
        if not split:
            break
        for pieces in split.values():
            _merge_chain(merges, vocab, pieces)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    lines = ["#version: 0.2", *(f"{a} {b}" for a, b in merges)]
    (folder / "merges.txt").write_text("\n".join(lines) + "\n")
    return CLIPTokenizer.from_pretrained(folder, model_max_length=77)


def _merge_chain(merges: list[tuple[str, str]], vocab: dict[str, int], pieces: list[str]) -> None:
    current = pieces[0]
    for piece in pieces[1:]:
        if (current, piece) not in merges:
            merges.append((current, piece))
        current += piece
        vocab.setdefault(current, len(vocab))


def _bpe(word: str, merges: list[tuple[str, str]]) -> list[str]:
    """CLIP's BPE on one word, as the tokenizer will run it."""
    ranks = {pair: rank for rank, pair in enumerate(merges)}
    pieces = [*word[:-1], word[-1] + "</w>"]
    while len(pieces) > 1:
        pairs = [
            (ranks.get(pair, 1 << 30), i)
            for i, pair in enumerate(zip(pieces, pieces[1:], strict=False))
        ]
        rank, i = min(pairs)
        if rank == 1 << 30:
            break
        pieces[i : i + 2] = [pieces[i] + pieces[i + 1]]
    return pieces
