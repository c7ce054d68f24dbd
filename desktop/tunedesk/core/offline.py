"""Nothing leaves the machine: switch every Hugging Face library to offline mode before it is imported."""

from __future__ import annotations

import os

# Said in the app's Help menu and the README's Privacy section; what enforce_offline() below makes true.
PRIVACY_PROMISE = (
    "Your data and your models stay on this computer. TuneDesk sends nothing anywhere: no telemetry and no "
    "network calls while it runs (only `tunedesk setup` downloads, once). Model weights are read from "
    "safetensors, and model code from the internet never runs unless you allow it."
)

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce_offline(env: dict[str, str] | None = None) -> dict[str, str]:
    """Set the offline switches in `env` (default: this process) and return it.

    Call before importing transformers/datasets/huggingface_hub: they read these once at import.
    """
    target = os.environ if env is None else env
    for key, value in OFFLINE_ENV.items():
        target[key] = value
    return target  # type: ignore[return-value]
