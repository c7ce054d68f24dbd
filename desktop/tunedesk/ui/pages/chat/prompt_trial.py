"""Trying a system prompt on the base model before fine-tuning it: the Data page's offer when core's advice
(core/data/advice.py) says training may not pay. The Chat page loads the base model's GGUF and fills in the
drafted prompt; the person sees whether the base model already answers like their rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def base_gguf(model_ref: str) -> str:
    """The GGUF file the chosen base model chats from: the starter's, a .gguf file itself, or the first .gguf
    in its folder; '' when it has none (a transformers folder: Chat runs GGUF files only)."""
    from tunedesk.core.vendor import starter_gguf

    if model_ref in ("", "starter"):
        path = starter_gguf()
        return str(path) if path else ""
    ref = Path(model_ref).expanduser()
    if ref.suffix.lower() == ".gguf" and ref.is_file():
        return str(ref)
    found = sorted(ref.glob("*.gguf")) if ref.is_dir() else []
    return str(found[0]) if found else ""


def try_system_prompt(page: Any, model_ref: str, prompt: str) -> str:
    """Load the base model (not a tuned one) with `prompt` in the system box of `page` (the ChatPage, which
    imports this module: no import back); returns the GGUF, '' if none."""
    path = base_gguf(model_ref)
    if path:
        page.set_compare(False)
        page.set_model(path)
        page.tuned_pane.set_title("Base model, before any training")
    else:
        name = Path(model_ref).name or model_ref
        page.state.show_status(
            f"{name} has no GGUF file to chat with: open one with Open GGUF…; the drafted prompt is filled in."
        )
    # After set_model: a tuned model's own prompt (its companion file) must not replace the draft.
    page.answer_settings.system_prompt.setPlainText(prompt)
    return path
