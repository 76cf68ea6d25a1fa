"""What a single-file checkpoint is loaded with, per family: diffusers configs and the tokenizer.

Written to the model cache on first use, from the configs below and, for CLIP's tokenizer,
the BPE merges that the `open_clip_torch` wheel carries (install it with `pip install --no-deps
open_clip_torch`; only the merges file is read, nothing of it is imported). Nothing is
downloaded. The configs are SD-1.5's as Stability and diffusers publish them; the test builds
each model from them on the meta device and checks its parameter count.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

SD15_UNET: dict[str, Any] = {
    "_class_name": "UNet2DConditionModel",
    "sample_size": 64,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 2,
    "block_out_channels": [320, 640, 1280, 1280],
    "down_block_types": [
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "CrossAttnDownBlock2D",
        "DownBlock2D",
    ],
    "up_block_types": [
        "UpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
        "CrossAttnUpBlock2D",
    ],
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
    "norm_num_groups": 32,
}
SD_VAE: dict[str, Any] = {
    "_class_name": "AutoencoderKL",
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 512,
    "scaling_factor": 0.18215,
}
CLIP_L_TEXT: dict[str, Any] = {
    "architectures": ["CLIPTextModel"],
    "model_type": "clip_text_model",
    "vocab_size": 49408,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "projection_dim": 768,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "pad_token_id": 1,
}
SD15_SCHEDULER: dict[str, Any] = {
    "_class_name": "PNDMScheduler",
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "prediction_type": "epsilon",
}
SD15_INDEX: dict[str, Any] = {
    "_class_name": "StableDiffusionPipeline",
    "feature_extractor": [None, None],
    "requires_safety_checker": False,
    "safety_checker": [None, None],
    "scheduler": ["diffusers", "PNDMScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}
SDXL_UNET: dict[str, Any] = {
    "_class_name": "UNet2DConditionModel",
    "sample_size": 128,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 2,
    "block_out_channels": [320, 640, 1280],
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "transformer_layers_per_block": [1, 2, 10],
    "attention_head_dim": [5, 10, 20],
    "cross_attention_dim": 2048,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
    "norm_num_groups": 32,
}
CLIP_BIGG_TEXT: dict[str, Any] = {
    "architectures": ["CLIPTextModelWithProjection"],
    "model_type": "clip_text_model",
    "vocab_size": 49408,
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 20,
    "max_position_embeddings": 77,
    "hidden_act": "gelu",
    "projection_dim": 1280,
    "bos_token_id": 0,
    "eos_token_id": 2,
    "pad_token_id": 1,
}
SDXL_SCHEDULER: dict[str, Any] = {
    "_class_name": "EulerDiscreteScheduler",
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "prediction_type": "epsilon",
}
SDXL_INDEX: dict[str, Any] = {
    "_class_name": "StableDiffusionXLPipeline",
    "force_zeros_for_empty_prompt": True,
    "scheduler": ["diffusers", "EulerDiscreteScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"],
    "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "tokenizer_2": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}
SD2_UNET: dict[str, Any] = {
    **SD15_UNET,
    "sample_size": 96,
    "cross_attention_dim": 1024,
    "attention_head_dim": [5, 10, 20, 20],
    "use_linear_projection": True,
    "upcast_attention": True,
}
OPENCLIP_H_TEXT: dict[str, Any] = {
    **CLIP_L_TEXT,
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 23,
    "num_attention_heads": 16,
    "hidden_act": "gelu",
    "projection_dim": 512,
}
# SD-2.1 (768 px) predicts v; SD-2.x base models and SD-Turbo predict the noise (`@sd2-base`).
SD2_SCHEDULER: dict[str, Any] = {
    "_class_name": "DDIMScheduler",
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
    "prediction_type": "v_prediction",
}
SD2_INDEX: dict[str, Any] = {**SD15_INDEX, "scheduler": ["diffusers", "DDIMScheduler"]}
FAMILIES: dict[str, dict[str, dict[str, Any]]] = {
    "sd15": {
        "model_index.json": SD15_INDEX,
        "unet/config.json": SD15_UNET,
        "vae/config.json": SD_VAE,
        "text_encoder/config.json": CLIP_L_TEXT,
        "scheduler/scheduler_config.json": SD15_SCHEDULER,
    },
    "sd2": {
        "model_index.json": SD2_INDEX,
        "unet/config.json": SD2_UNET,
        "vae/config.json": {**SD_VAE, "sample_size": 768},
        "text_encoder/config.json": OPENCLIP_H_TEXT,
        "scheduler/scheduler_config.json": SD2_SCHEDULER,
    },
    "sd2-base": {
        "model_index.json": SD2_INDEX,
        "unet/config.json": {**SD2_UNET, "sample_size": 64, "upcast_attention": False},
        "vae/config.json": SD_VAE,
        "text_encoder/config.json": OPENCLIP_H_TEXT,
        "scheduler/scheduler_config.json": {**SD2_SCHEDULER, "prediction_type": "epsilon"},
    },
    "sdxl": {
        "model_index.json": SDXL_INDEX,
        "unet/config.json": SDXL_UNET,
        "vae/config.json": {**SD_VAE, "scaling_factor": 0.13025, "force_upcast": True},
        "text_encoder/config.json": CLIP_L_TEXT,
        "text_encoder_2/config.json": CLIP_BIGG_TEXT,
        "scheduler/scheduler_config.json": SDXL_SCHEDULER,
    },
}
# OpenCLIP's text encoders (SD-2's, SDXL's second) read CLIP's vocabulary padded with "!".
TOKENIZERS = {
    "sd15": {"tokenizer": "<|endoftext|>"},
    "sd2": {"tokenizer": "!"},
    "sd2-base": {"tokenizer": "!"},
    "sdxl": {"tokenizer": "<|endoftext|>", "tokenizer_2": "!"},
}


class MissingTokenizer(RuntimeError):
    """CLIP's BPE merges are not installed; the message says how to install them."""


def write_configs(family: str, folder: Path) -> Path:
    """The family's configs and tokenizer in `folder` (built once, atomically)."""
    if (folder / "model_index.json").exists():
        return folder
    staging = folder.with_name(f"{folder.name}.building")
    shutil.rmtree(staging, ignore_errors=True)
    for name, config in FAMILIES[family].items():
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(config, indent=2))
    for name, pad in TOKENIZERS[family].items():
        clip_tokenizer(staging / name, pad)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(folder)
    return folder


def _bpe_merges() -> list[str]:
    spec = importlib.util.find_spec("open_clip")
    locations = list(spec.submodule_search_locations or []) if spec else []
    found = [Path(p) / "bpe_simple_vocab_16e6.txt.gz" for p in locations]
    if not found or not found[0].exists():
        raise MissingTokenizer(
            "CLIP's tokenizer merges are not installed on this runner: "
            "`pip install --no-deps open_clip_torch` (only its merges file is used)"
        )
    lines = gzip.decompress(found[0].read_bytes()).decode("utf-8").split("\n")
    return lines[1 : 49152 - 256 - 2 + 1]  # as CLIP's SimpleTokenizer reads them


def _byte_order() -> list[str]:
    """CLIP's printable stand-ins for the 256 bytes, in CLIP's order (printable bytes first)."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    rest = [byte for byte in range(256) if byte not in printable]
    return [chr(byte) for byte in printable] + [chr(256 + n) for n in range(len(rest))]


def clip_tokenizer(folder: Path, pad: str = "<|endoftext|>") -> None:
    """CLIP ViT-L/14's tokenizer files (49,408 tokens), as transformers' CLIPTokenizer reads them."""
    merges = _bpe_merges()
    symbols = _byte_order()
    tokens = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "CLIPTokenizer",
                "model_max_length": 77,
                "do_lower_case": True,
                "bos_token": "<|startoftext|>",
                "eos_token": "<|endoftext|>",
                "unk_token": "<|endoftext|>",
                "pad_token": pad,
            }
        )
    )
