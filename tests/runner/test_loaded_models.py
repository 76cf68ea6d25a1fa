"""Several models on one runner (#11): an LRU of pipelines that never drops one mid-batch."""

from __future__ import annotations

import threading
import time
from typing import Any

from bot.runner.diffusion import LoadedModels


class Pipeline:
    """Stands in for a loaded pipeline: its GPU lock, and a record of every load."""

    loads: list[str] = []

    def __init__(self, model: str, device: str) -> None:
        self.model_id = model
        self.busy = threading.Lock()
        Pipeline.loads.append(model)

    def wait_idle(self) -> None:
        with self.busy:
            pass


def cache(limit: int) -> Any:
    Pipeline.loads = []
    models = LoadedModels(Pipeline)  # type: ignore[arg-type]
    models.limit = limit
    return models


def test_the_least_recently_used_pipeline_is_dropped_past_the_limit() -> None:
    models = cache(2)
    for name in ("sd15", "brand-xl", "sd15", "turbo", "sd15", "brand-xl"):
        models.get(name, "cpu")
    # turbo pushed out brand-xl (sd15 had just been used); brand-xl pushed out turbo.
    assert Pipeline.loads == ["sd15", "brand-xl", "turbo", "brand-xl"]


def test_the_default_is_two_pipelines_on_cpu() -> None:
    models = cache(2)
    models.limit = None
    for name in ("a", "b", "a", "b"):
        models.get(name, "cpu")
    assert Pipeline.loads == ["a", "b"]


def test_a_job_for_another_model_waits_for_the_running_batch_before_its_load() -> None:
    models = cache(1)
    running = models.get("sd15", "cpu")
    running.busy.acquire()  # a batch is running on sd15
    other = threading.Thread(target=models.get, args=("brand-xl", "cpu"))
    other.start()
    time.sleep(0.3)
    assert Pipeline.loads == ["sd15"]  # brand-xl waits; sd15 is not dropped mid-batch
    running.busy.release()
    other.join(5)
    assert Pipeline.loads == ["sd15", "brand-xl"]
