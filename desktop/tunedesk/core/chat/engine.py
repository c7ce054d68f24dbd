"""ChatEngine: a multi-turn chat over one GGUF model, streamed, cancellable, with a bounded history.

Shared by `tunedesk chat` and the GUI's chat pane (which drives it from a QThread, see ui/pages/chat/chat_session.py).
The conversation is rendered with the chat template stored in the GGUF file itself, so what the model sees
is exactly what it was trained on. When the history would no longer fit the context window, the oldest
exchanges are dropped first (the system prompt always stays) and `trimmed_turns` / `notice` say so.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tunedesk.core.chat.companion import read_companion
from tunedesk.core.chat.llama_load import load_llama
from tunedesk.core.errors import TuneDeskError

# Below this many tokens of room for the answer, a question is refused instead of answered in a few words.
MIN_ANSWER_TOKENS = 16
# Control characters other than tab and newline (pasted from terminals or binary files) mean nothing to a model
# and some break its tokenizer's special-token parsing: they are dropped from what the person typed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_message(text: str) -> str:
    """The person's message without control characters; an empty one is refused with a clear message."""
    cleaned = _CONTROL.sub("", text.replace("\r\n", "\n")).strip()
    if not cleaned:
        raise TuneDeskError(
            "The message is empty.", hint="Type a question or a request first.", kind="empty_message"
        )
    return cleaned


# Per-message overhead used to count tokens when a model has no template to render with.
_PLAIN_OVERHEAD = 8


@dataclass
class ChatStats:
    """How one answer went. tokens_per_second counts generation only (after the first token)."""

    tokens: int = 0
    seconds: float = 0.0
    time_to_first_token: float | None = None
    tokens_per_second: float | None = None
    prompt_tokens: int = 0
    trimmed_turns: int = 0
    cancelled: bool = False
    finish_reason: str = ""  # stop | length | cancelled

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ChatEngine:
    """Chat with a GGUF model.

    Args:
        model_path: the .gguf file (checked before llama.cpp opens it: a wrong file is a TuneDeskError).
        n_ctx: context window in tokens; the history is trimmed to fit it.
        n_threads: CPU threads (default: physical cores; llama.cpp's own default runs at half speed).
        system_prompt: None: the system prompt the model was trained with when an export says so beside the
            file (see companion.py), else the template's default; "": the template's default; any other
            text replaces it. `trained_system_prompt` keeps what the export said (None when nothing).
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        system_prompt: str | None = None,
        seed: int = 0,
    ) -> None:
        self.model_path = Path(model_path)
        self.llm = load_llama(model_path, n_ctx=n_ctx, n_threads=n_threads, seed=seed)
        self.n_ctx = self.llm.n_ctx()
        companion = read_companion(model_path)
        self.trained_system_prompt = companion.system_prompt if companion else None
        self.system_prompt = self.trained_system_prompt if system_prompt is None else (system_prompt or None)
        self.history: list[dict[str, str]] = []
        self.last_stats: ChatStats | None = None
        self.trimmed_turns = 0  # exchanges dropped for the last answer
        self.notice = ""  # a plain sentence about the last trimming, "" when nothing was dropped
        self._cancel = threading.Event()
        metadata = self.llm.metadata
        self.chat_template: str | None = metadata.get("tokenizer.chat_template")
        self._formatter = None
        if self.chat_template:
            # Use the file's own template even where llama-cpp-python would guess a built-in look-alike.
            self.llm.chat_format = "chat_template.default"
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            self._formatter = Jinja2ChatFormatter(
                template=self.chat_template,
                eos_token=self._token_text(self.llm.token_eos()),
                bos_token=self._token_text(self.llm.token_bos()),
            )

    # ---- conversation ------------------------------------------------------------------------------
    def messages(self, user_message: str | None = None) -> list[dict[str, str]]:
        msgs = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        msgs += self.history
        if user_message is not None:
            msgs.append({"role": "user", "content": user_message})
        return msgs

    def reset(self) -> None:
        """Forget the conversation; the model stays loaded."""
        self.history.clear()
        self.trimmed_turns = 0
        self.notice = ""

    def cancel(self) -> None:
        """Stop the answer in progress after the current token (safe to call from any thread)."""
        self._cancel.set()

    # ---- answering ---------------------------------------------------------------------------------
    def stream(
        self,
        user_message: str,
        temperature: float = 0.7,
        top_p: float = 0.9,
        max_tokens: int = 256,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> Iterator[str]:
        """Yield the answer in text pieces as they are generated; the exchange then joins the history."""
        self._cancel.clear()
        user_message = clean_message(user_message)
        max_tokens, prompt_tokens = self._fit(user_message, max_tokens)
        messages = self.messages(user_message)
        stats = ChatStats(prompt_tokens=prompt_tokens, trimmed_turns=self.trimmed_turns)
        self.last_stats = stats
        pieces: list[str] = []
        started = time.perf_counter()
        first_at: float | None = None
        chunks = self.llm.create_chat_completion(
            messages=messages,
            stream=True,
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            stop=stop or None,
            seed=seed,
        )
        try:
            for chunk in chunks:
                if self._cancel.is_set():
                    stats.cancelled = True
                    stats.finish_reason = "cancelled"
                    break
                choice = chunk["choices"][0]
                text = choice.get("delta", {}).get("content") or ""
                if choice.get("finish_reason"):
                    stats.finish_reason = choice["finish_reason"]
                if not text:
                    continue
                if first_at is None:
                    first_at = time.perf_counter()
                pieces.append(text)
                yield text
        finally:
            # Runs on normal end, on cancel, and when the consumer stops iterating (GeneratorExit).
            close = getattr(chunks, "close", None)
            if close:
                close()
            ended = time.perf_counter()
            answer = "".join(pieces)
            stats.tokens = len(self.llm.tokenize(answer.encode("utf-8"), add_bos=False)) if answer else 0
            stats.seconds = ended - started
            if first_at is not None:
                stats.time_to_first_token = first_at - started
                gen = ended - first_at
                stats.tokens_per_second = (stats.tokens - 1) / gen if stats.tokens > 1 and gen > 0 else None
            if answer:
                self.history += [
                    {"role": "user", "content": user_message},
                    {"role": "assistant", "content": answer},
                ]

    def ask(self, user_message: str, **kwargs: Any) -> str:
        """The whole answer at once (tests, scripts)."""
        return "".join(self.stream(user_message, **kwargs))

    # ---- context budget ----------------------------------------------------------------------------
    def render(self, messages: list[dict[str, str]]) -> str | None:
        """The text llama.cpp is given for these messages (the file's own chat template); None without one."""
        return None if self._formatter is None else self._formatter(messages=messages).prompt

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        """Tokens of the prompt these messages render to, as the model will see it."""
        prompt = self.render(messages)
        if prompt is not None:
            return len(self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
        return sum(
            len(self.llm.tokenize(m["content"].encode("utf-8"), add_bos=False)) + _PLAIN_OVERHEAD
            for m in messages
        )

    def _fit(self, user_message: str, max_tokens: int) -> tuple[int, int]:
        """Drop the oldest exchanges until prompt + answer fit; returns (max_tokens, prompt tokens)."""
        dropped = 0
        prompt_tokens = self.count_tokens(self.messages(user_message))
        while prompt_tokens + max_tokens > self.n_ctx and self.history:
            # One exchange = a user turn and the assistant turn after it: never split a pair.
            del self.history[:2]
            dropped += 1
            prompt_tokens = self.count_tokens(self.messages(user_message))
        self.trimmed_turns = dropped
        self.notice = (
            f"Dropped the {dropped} oldest exchange{'s' if dropped > 1 else ''} to fit the "
            f"{self.n_ctx}-token context."
            if dropped
            else ""
        )
        room = self.n_ctx - prompt_tokens
        if room < MIN_ANSWER_TOKENS:
            raise TuneDeskError(
                f"The message is too long for this model's context: it takes {prompt_tokens} of "
                f"{self.n_ctx} tokens, leaving no room for an answer.",
                hint="Shorten the message or the system prompt, or open the model with a larger context.",
                kind="context_overflow",
                where={"tokens": prompt_tokens, "n_ctx": self.n_ctx},
            )
        return min(max_tokens, room), prompt_tokens

    def _token_text(self, token_id: int) -> str:
        if token_id < 0:
            return ""
        return self.llm.detokenize([token_id], special=True).decode("utf-8", errors="replace")
