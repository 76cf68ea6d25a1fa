"""What a repair's instruction means: what should be in the region, and what should not.

"remove the stray text" must never reach the prompt: a diffusion model steers *toward* every
word it is given. Words after "remove", "no", "without", "get rid of" (and the like) go to the
negative prompt; the rest describes what the region should show ("make it yellow" → "yellow").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REMOVAL = re.compile(
    r"^(?:please\s+)?(?:remove|delete|erase|get\s+rid\s+of|take\s+out|no|without|lose)\s+(.*)$",
    re.IGNORECASE,
)
_CHANGE = re.compile(
    r"^(?:please\s+)?(?:make\s+it|make\s+them|make|turn\s+it|turn\s+it\s+into|paint\s+it|"
    r"colou?r\s+it|recolou?r\s+it|change\s+it\s+to|change\s+to|add)\s+(.*)$",
    re.IGNORECASE,
)
_CLAUSES = re.compile(
    r"\s*[,;]\s*|\s+and\s+(?=(?:please\s+)?(?:remove|delete|erase|get\s+rid|take\s+out|no|without)\b)",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(?:the|a|an|any|all|those|that|this)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class RepairPrompts:
    prompt: str
    negative_prompt: str


def split_instruction(instruction: str) -> tuple[list[str], list[str]]:
    """(what the region should show, what it should not), clause by clause."""
    wanted: list[str] = []
    unwanted: list[str] = []
    for clause in filter(None, (c.strip() for c in _CLAUSES.split(instruction.strip()))):
        removal = _REMOVAL.match(clause)
        if removal:
            for thing in re.split(r"\s+and\s+|\s+or\s+", removal.group(1)):
                if thing := _ARTICLE.sub("", thing.strip()):
                    unwanted.append(thing)
            continue
        change = _CHANGE.match(clause)
        if text := (change.group(1) if change else clause).strip():
            wanted.append(text)
    return wanted, unwanted


def repair_prompts(instruction: str, prompt: str, negative: str, *, region: bool) -> RepairPrompts:
    """The prompt and negative prompt a repair renders with.

    An inpainted region shows what the instruction asks for (the image's own prompt when it
    only says what to remove); a refine re-renders the whole picture, so its prompt keeps the
    image's own after the instruction.
    """
    wanted, unwanted = split_instruction(instruction)
    asked = ", ".join(wanted)
    whole = ", ".join(part for part in (asked, prompt) if part)
    new_prompt = (asked or prompt) if region else whole
    new_negative = ", ".join(part for part in (*unwanted, negative) if part)
    return RepairPrompts(new_prompt, new_negative)
