"""Write a diffusers SD pipeline as an original-layout (LDM) single-file checkpoint.

The inverse of diffusers' single-file conversion, as its conversion scripts map the keys
(convert_diffusers_to_original_stable_diffusion.py), generalised to any number of UNet and VAE
blocks and layers so the `tiny` model can be written the way A1111 and ComfyUI keep models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safetensors.torch import save_file

UNET_TOP = [
    ("time_embed.0.", "time_embedding.linear_1."),
    ("time_embed.2.", "time_embedding.linear_2."),
    ("input_blocks.0.0.", "conv_in."),
    ("out.0.", "conv_norm_out."),
    ("out.2.", "conv_out."),
]
RESNET = [
    ("in_layers.0", "norm1"),
    ("in_layers.2", "conv1"),
    ("out_layers.0", "norm2"),
    ("out_layers.3", "conv2"),
    ("emb_layers.1", "time_emb_proj"),
    ("skip_connection", "conv_shortcut"),
]


def _unet_prefixes(unet: Any) -> list[tuple[str, str]]:
    """(original prefix, diffusers prefix) for every block of this UNet's shape."""
    layers = unet.config.layers_per_block
    blocks = len(unet.config.block_out_channels)
    pairs: list[tuple[str, str]] = []
    for i in range(blocks):
        for j in range(layers):
            pairs.append(
                (f"input_blocks.{i * (layers + 1) + j + 1}.0.", f"down_blocks.{i}.resnets.{j}.")
            )
            pairs.append(
                (f"input_blocks.{i * (layers + 1) + j + 1}.1.", f"down_blocks.{i}.attentions.{j}.")
            )
        if i < blocks - 1:
            pairs.append(
                (
                    f"input_blocks.{(i + 1) * (layers + 1)}.0.op.",
                    f"down_blocks.{i}.downsamplers.0.conv.",
                )
            )
        has_attention = "CrossAttn" in unet.config.up_block_types[i]
        for j in range(layers + 1):
            pairs.append(
                (f"output_blocks.{i * (layers + 1) + j}.0.", f"up_blocks.{i}.resnets.{j}.")
            )
            pairs.append(
                (f"output_blocks.{i * (layers + 1) + j}.1.", f"up_blocks.{i}.attentions.{j}.")
            )
        if i < blocks - 1:
            index = i * (layers + 1) + layers
            pairs.append(
                (
                    f"output_blocks.{index}.{2 if has_attention else 1}.",
                    f"up_blocks.{i}.upsamplers.0.",
                )
            )
    pairs.append(("middle_block.1.", "mid_block.attentions.0."))
    for j in range(2):
        pairs.append((f"middle_block.{2 * j}.", f"mid_block.resnets.{j}."))
    return pairs


def unet_state(unet: Any) -> dict[str, Any]:
    prefixes = _unet_prefixes(unet)
    out: dict[str, Any] = {}
    for key, value in unet.state_dict().items():
        name = key
        for original, diffusers in UNET_TOP:
            if name.startswith(diffusers):
                name = original + name[len(diffusers) :]
        if "resnets" in name:
            for original, diffusers in RESNET:
                name = name.replace(diffusers, original)
        for original, diffusers in prefixes:
            if name.startswith(diffusers):
                name = original + name[len(diffusers) :]
                break
        out[f"model.diffusion_model.{name}"] = value
    return out


def _vae_prefixes(vae: Any) -> list[tuple[str, str]]:
    blocks = len(vae.config.block_out_channels)
    layers = vae.config.layers_per_block
    pairs = [
        ("nin_shortcut", "conv_shortcut"),
        ("norm_out", "conv_norm_out"),
        ("mid.attn_1.", "mid_block.attentions.0."),
    ]
    for i in range(blocks):
        for j in range(layers):
            pairs.append((f"encoder.down.{i}.block.{j}.", f"encoder.down_blocks.{i}.resnets.{j}."))
        if i < blocks - 1:
            pairs.append((f"down.{i}.downsample.", f"down_blocks.{i}.downsamplers.0."))
            pairs.append((f"up.{blocks - 1 - i}.upsample.", f"up_blocks.{i}.upsamplers.0."))
        for j in range(layers + 1):
            pairs.append(
                (f"decoder.up.{blocks - 1 - i}.block.{j}.", f"decoder.up_blocks.{i}.resnets.{j}.")
            )
    for i in range(2):
        pairs.append((f"mid.block_{i + 1}.", f"mid_block.resnets.{i}."))
    return pairs


VAE_ATTENTION = [
    ("norm.", "group_norm."),
    ("q.", "to_q."),
    ("k.", "to_k."),
    ("v.", "to_v."),
    ("proj_out.", "to_out.0."),
]


def vae_state(vae: Any) -> dict[str, Any]:
    pairs = _vae_prefixes(vae)
    out: dict[str, Any] = {}
    for key, value in vae.state_dict().items():
        name = key
        for original, diffusers in pairs:
            name = name.replace(diffusers, original)
        if "attn_1" in name:
            for original, diffusers in VAE_ATTENTION:
                name = name.replace(diffusers, original)
            if value.dim() == 2:
                value = value[:, :, None, None]  # the original keeps them as 1×1 convolutions
        out[f"first_stage_model.{name}"] = value
    return out


def text_state(text_encoder: Any) -> dict[str, Any]:
    """The original keeps transformers' CLIPTextModel keys under `text_model.` (transformers 5 drops it)."""
    return {
        f"cond_stage_model.transformer.{k if k.startswith('text_model.') else 'text_model.' + k}": v
        for k, v in text_encoder.state_dict().items()
    }


def write_single_file(pipe: Any, path: Path) -> None:
    state = {**unet_state(pipe.unet), **vae_state(pipe.vae), **text_state(pipe.text_encoder)}
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
