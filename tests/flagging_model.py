"""The tiny model with a safety checker built from its config and forced to flag every image."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch


def make_flagging_model(folder: Path) -> Path:
    """A copy of `tiny` whose folder ships a `safety_checker` (and its feature extractor), as
    SD 1.5's does, with every concept's threshold so low that every picture is flagged."""
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    from bot.runner import models

    shutil.copytree(models.resolve("tiny").path, folder)
    small = {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4}
    config = CLIPConfig(
        text_config={**small, "num_hidden_layers": 1, "vocab_size": 99},
        vision_config={**small, "num_hidden_layers": 1, "image_size": 32, "patch_size": 4},
        projection_dim=32,
    )
    torch.manual_seed(0)
    checker = StableDiffusionSafetyChecker(config)
    with torch.no_grad():
        checker.concept_embeds_weights.fill_(-100.0)  # every picture "shows" every concept
    checker.save_pretrained(folder / "safety_checker")
    CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(folder / "feature_extractor")
    index = json.loads((folder / "model_index.json").read_text())
    index["safety_checker"] = ["stable_diffusion", "StableDiffusionSafetyChecker"]
    index["feature_extractor"] = ["transformers", "CLIPImageProcessor"]
    index["requires_safety_checker"] = True
    (folder / "model_index.json").write_text(json.dumps(index))
    return folder
