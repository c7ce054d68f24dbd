"""Chatting with a GGUF model (Qt-free): `ChatEngine`, and the checked llama.cpp loading it is built on.

Importing this package does not import llama_cpp; opening a model does.
"""

from __future__ import annotations

from tunedesk.core.chat.engine import ChatEngine, ChatStats
from tunedesk.core.chat.llama_load import check_gguf_file, load_llama, physical_cores

__all__ = ["ChatEngine", "ChatStats", "check_gguf_file", "load_llama", "physical_cores"]
