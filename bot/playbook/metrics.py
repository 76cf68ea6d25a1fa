"""The playbook's four honest numbers, computed from plain counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.playbook import checklist
from storage.metric_windows import MetricInputs


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | None
    count: int
    unit: str
    better: str
    meaning: str
    counted: str = ""  # what `count` counts, in words: "volume images", "finals"
    detail: str = ""  # what the count breaks down into: "sent back for brand 2, license 1"

    def formatted(self) -> str:
        if self.value is None:
            return "no data yet"
        if self.unit == "%":
            return f"{self.value * 100:.0f}%"
        if self.unit == "h" and self.value < 1:
            return f"{self.value * 60:.0f} min"
        if self.unit == "h":
            return f"{self.value:.1f} h"
        return f"{self.value:.1f}"

    def basis(self) -> str:
        """The count behind the figure, in words: "from 27 volume images"."""
        basis = f"from {self.count} {self.counted}" if self.counted else f"from {self.count}"
        return f"{basis}; {self.detail}" if self.detail else basis


def keep_rate(kept: int, generated: int) -> Metric:
    """Volume images kept at keep/cull; sprint candidates have their own figure (picks)."""
    return Metric(
        "Keep rate",
        kept / generated if generated else None,
        generated,
        "%",
        "up",
        "volume images kept; rising means your recipes are improving",
        "volume images",
    )


def sprint_picks(ranked: int, candidates: int) -> Metric:
    return Metric(
        "Sprint picks",
        ranked / candidates if candidates else None,
        candidates,
        "%",
        "up",
        "sprint candidates the Director ranked; breadth first, so a low share is normal",
        "sprint candidates",
    )


def iterations_per_final(generations: int, lineage_sizes: Sequence[int]) -> Metric:
    """The generations it took to ship a final: all of them, not only the final's own lineage."""
    finals = len(lineage_sizes)
    own = f" (its own history alone: {sum(lineage_sizes) / finals:.1f})" if finals else ""
    return Metric(
        "Iterations per final",
        generations / finals if finals else None,
        finals,
        "",
        "down",
        "every generation in the window (sprint, hero and re-check, volume, re-rolls, fixes, "
        f"upscales) ÷ finals cleared{own}; falling means fewer generations buy each shipped image",
        "finals",
    )


def rework_after_review(
    sent_back: int, reviewed: int, by_item: Mapping[str, int] | None = None
) -> Metric:
    """Send-backs over reviews, and which checklist items (a channel's own too) they failed."""
    items = sorted((by_item or {}).items(), key=lambda pair: (-pair[1], pair[0]))
    failed = ", ".join(f"{checklist.short(key)} {count}" for key, count in items)
    return Metric(
        "Rework after review",
        sent_back / reviewed if reviewed else None,
        reviewed,
        "%",
        "down",
        "should drop as recipes mature; rising means fix it in the recipe",
        "reviews",
        f"sent back for {failed}" if failed else "",
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
        "projects",
    )


def all_metrics(inputs: MetricInputs) -> list[Metric]:
    return [
        keep_rate(inputs.kept, inputs.generated),
        iterations_per_final(inputs.generations, inputs.lineage_sizes),
        rework_after_review(inputs.sent_back, inputs.reviewed, inputs.sent_back_items),
        brief_to_hero(inputs.hero_durations),
        sprint_picks(inputs.ranked, inputs.candidates),
    ]


NO_INPUTS = MetricInputs(
    generated=0, kept=0, generations=0, lineage_sizes=[], reviewed=0, sent_back=0, hero_durations=[]
)
