"""Rows far longer than any sequence length, found without a tokenizer (`tunedesk data inspect` without
--model, the Data page before a model is chosen): tokens are estimated from characters.

A chat row longer than the sequence length is cut at it, so everything after the cut (often the whole
answer) is never learned. Raw text is different: it is cut into windows and nothing is lost, so it is not
flagged here.
"""

from __future__ import annotations

import math
import re

from tunedesk.core.data.records import WARNING, Problem, Record

# English prose averages about 4 characters per token in the tokenizers of the small models TuneDesk trains;
# other scripts take far more tokens per character. Measured with the starter model's tokenizer (SmolLM2):
# English 5.5 characters per token, Russian 1.25, Chinese, Japanese and Korean about 0.5 (two tokens a
# character). Tokenizers trained on more languages (Qwen2.5) need fewer. Each estimate below takes the
# cheaper end, so it under-counts rather than flags a row that fits.
CHARS_PER_TOKEN = 4  # Latin script, digits, punctuation
OTHER_SCRIPT_CHARS_PER_TOKEN = 2  # Cyrillic, Greek, Arabic, Hebrew, Devanagari...
# Han, kana, Hangul and their punctuation (CJK punctuation, kana, extension A, unified ideographs, Hangul
# syllables, compatibility ideographs, full-width forms, extensions B-F): a token per character at the least.
_CJK = re.compile(
    "[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]"
)
_LATIN = re.compile("[\u0000-\u024f]")  # ASCII and the Latin letters of European languages
# The longest context of those models (SmolLM2, Qwen2.5 0.5-1.5B, Llama 3.2 1B train at 8192 or less):
# a row estimated above it cannot fit any sequence length a run would choose.
LONGEST_SEQ_LEN = 8192


def estimated_tokens(text: str) -> int:
    """A low estimate of `text`'s token count from its characters, by script (regexes: rows can be huge)."""
    cjk = _CJK.subn("", text)[1]  # a count, without a list of every match
    latin = _LATIN.subn("", text)[1]
    other = len(text) - cjk - latin
    return cjk + math.ceil(other / OTHER_SCRIPT_CHARS_PER_TOKEN) + math.ceil(latin / CHARS_PER_TOKEN)


def far_too_long(records: list[Record], limit: int = LONGEST_SEQ_LEN) -> list[Problem]:
    """A warning, at its line, for each chat row (or preference pair) estimated at more than `limit` tokens."""
    problems = []
    for record in records:
        if record.kind == "text":
            continue
        turns = [*(record.messages or []), *(record.rejected or [])]
        tokens = sum(estimated_tokens(m["content"]) for m in turns)
        if tokens <= limit:
            continue
        longest = max(turns, key=lambda m: len(m["content"]))
        problems.append(
            Problem(
                record.line,
                None,
                "too_long",
                f"about {tokens:,} tokens ({sum(len(m['content']) for m in turns):,} characters; its longest "
                f"part is one {longest['role']} message of {len(longest['content']):,}): far longer than any "
                f"sequence length (at most {limit:,}), so training would cut it and never learn the rest. "
                "Split it into shorter rows or remove it (measure it exactly with a model: --model)",
                WARNING,
            )
        )
    return problems
