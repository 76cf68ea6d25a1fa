"""Settings from the environment (and a `.env` file), with the defaults the README lists."""

from __future__ import annotations

import os
from dataclasses import dataclass

from dotenv import load_dotenv

from storage.content_credentials import Credentials

SLACK_API_URL = "https://slack.com/api/"


def model_name(entry: str) -> str:
    """`sd15` for `sd15=/p` or `sd15@sd15=/p`; a bare path's folder or file name without suffix."""
    head, equals, _ = entry.partition("=")
    if equals:
        return head.partition("@")[0].strip()
    last = entry.rstrip("/").rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[0] if last.endswith((".safetensors", ".ckpt")) else last


@dataclass(frozen=True)
class Config:
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    database_url: str
    image_store: str
    model: str
    device: str
    slack_timeout: int = 15
    shutdown_seconds: float = 20.0
    # Slack takes files up to 1 GB; a workspace may set its own lower limit.
    slack_file_limit_mb: float = 1000.0
    # Pipelines a runner keeps loaded (None: 1 on CUDA, 2 on CPU).
    max_loaded_models: int | None = None
    lora_folder: str | None = None  # ATELIER_LORAS: a folder of .safetensors LoRAs
    # Content Credentials: the team's signing certificate chain and key (PEM text or paths).
    c2pa_cert: str | None = None
    c2pa_key: str | None = None

    @classmethod
    def from_env(cls) -> Config:
        load_dotenv(os.environ.get("ATELIER_ENV_FILE", ".env"), override=False)
        env = os.environ.get
        return cls(
            slack_bot_token=env("SLACK_BOT_TOKEN"),
            slack_signing_secret=env("SLACK_SIGNING_SECRET"),
            slack_app_token=env("SLACK_APP_TOKEN"),
            slack_api_url=env("SLACK_API_URL", SLACK_API_URL),
            database_url=env("ATELIER_DATABASE_URL", "sqlite:///atelier.db"),
            image_store=env("ATELIER_IMAGE_STORE", "./atelier-images"),
            model=env("ATELIER_MODELS") or env("ATELIER_MODEL", "tiny"),
            device=env("ATELIER_DEVICE", "auto"),
            slack_timeout=int(env("ATELIER_SLACK_TIMEOUT", "15")),
            shutdown_seconds=float(env("ATELIER_SHUTDOWN_SECONDS", "20")),
            slack_file_limit_mb=float(env("ATELIER_SLACK_FILE_LIMIT_MB", "1000")),
            max_loaded_models=int(env("ATELIER_MAX_LOADED_MODELS", "0")) or None,
            lora_folder=env("ATELIER_LORAS"),
            c2pa_cert=env("ATELIER_C2PA_CERT"),
            c2pa_key=env("ATELIER_C2PA_KEY"),
        )

    def models(self) -> dict[str, str]:
        """The model names a channel may pick, each with what the runner loads for it.

        ATELIER_MODELS lists them, comma-separated: `sd15=/models/v1-5.safetensors,
        brand-xl@sdxl=/models/brandXL.safetensors, turbo=/models/sd-turbo/`; a bare path is named
        by its folder or file. `tiny` and `shapes` (built in) are always there. A channel names a model, never a path.
        """
        registered = {"tiny": "tiny", "shapes": "shapes"}
        for entry in (part.strip() for part in self.model.split(",")):
            if entry and entry not in registered:
                registered[model_name(entry)] = entry
        return registered

    def families(self) -> dict[str, str]:
        """The family an entry names with `@` (`brand-xl@sdxl=…`); the rest go by their name."""
        return {
            name: entry.partition("=")[0].partition("@")[2]
            for name, entry in self.models().items()
            if "@" in entry.partition("=")[0]
        }

    def secrets(self) -> list[str]:
        """Values that must never reach a log line."""
        return [
            s
            for s in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.c2pa_key,  # inline PEM: the signing key itself
            )
            if s
        ]

    def credentials(self) -> Credentials | None:
        """The team's Content Credentials signer, or None (with a warning) when not set up."""
        return Credentials.configured(self.c2pa_cert, self.c2pa_key)
