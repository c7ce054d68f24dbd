"""The PySide6 desktop app. Thin: every decision is made in `tunedesk.core`; this package only shows it.

Never import torch, transformers or llama_cpp at module level here (tests/gui/test_startup_imports.py).
"""
