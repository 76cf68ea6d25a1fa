"""The playbook's four honest numbers, computed from plain counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from storage.queries import MetricInputs


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | None
    count: int
    unit: str
    better: str
    meaning: str

    def formatted(self) -> str:
        if self.value is None:
            return "n/a"
        if self.unit == "%":
            return f"{self.value * 100:.0f}%"
        if self.unit == "h":
            return f"{self.value:.1f} h"
        return f"{self.value:.1f}"


def keep_rate(kept: int, generated: int) -> Metric:
    return Metric(
        "Keep rate",
        kept / generated if generated else None,
        generated,
        "%",
        "up",
        "rising means your recipes are improving",
    )


def iterations_per_final(generations: int, lineage_sizes: Sequence[int]) -> Metric:
    """The generations it took to ship a final: all of them, not only the final's own lineage."""
    finals = len(lineage_sizes)
    own = f" (its own lineage alone: {sum(lineage_sizes) / finals:.1f})" if finals else ""
    return Metric(
        "Iterations per final",
        generations / finals if finals else None,
        finals,
        "",
        "down",
        "every generation in the window (sprint, hero and re-check, volume, re-rolls, fixes, "
        f"upscales) ÷ finals cleared{own}; falling means fewer generations buy each shipped image",
    )


def rework_after_review(sent_back: int, reviewed: int) -> Metric:
    return Metric(
        "Rework after review",
        sent_back / reviewed if reviewed else None,
        reviewed,
        "%",
        "down",
        "should drop as recipes mature; rising means fix it in the recipe",
    )


def brief_to_hero(durations: Sequence[timedelta]) -> Metric:
    hours = [duration.total_seconds() / 3600 for duration in durations]
    return Metric(
        "Brief to approved hero",
        sum(hours) / len(hours) if hours else None,
        len(hours),
        "h",
        "down",
        "the speed of your concept-to-lock loop",
    )


def all_metrics(inputs: MetricInputs) -> list[Metric]:
    return [
        keep_rate(inputs.kept, inputs.generated),
        iterations_per_final(inputs.generations, inputs.lineage_sizes),
        rework_after_review(inputs.sent_back, inputs.reviewed),
        brief_to_hero(inputs.hero_durations),
    ]
