"""Render a conversation through the model's own chat template and find the assistant's tokens.

Templates such as SmolLM2's ChatML have no ``{% generation %}`` markers, so the assistant spans are derived
by rendering: for each assistant turn i, ``render(messages[:i], add_generation_prompt=True)`` ends where the
answer starts and ``render(messages[:i+1])`` ends where it stops. Each prompt/answer piece is tokenized on
its own, which is also how the model meets the prompt when it generates. Inside an answer piece the labels
stop at the end-of-turn token (``<|im_end|>`` for ChatML): the model learns to stop, and what the template
adds after it (a newline) stays unlabelled.
"""

from __future__ import annotations

from typing import Any

from tunedesk.core.errors import TuneDeskError

# Used when a tokenizer has no chat template (a base model). Plain, unambiguous, and ends each answer with the
# tokenizer's EOS token so the model learns to stop. The trainer stores it with the tokenizer it saves.
FALLBACK_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}\n\n"
    "{% elif message['role'] == 'user' %}### User:\n{{ message['content'] }}\n\n"
    "{% else %}### Assistant:\n{{ message['content'] }}{{ eos_token }}\n\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}### Assistant:\n{% endif %}"
)
IGNORE = -100
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "<|endoftext|>")


def chat_template_for(tokenizer: Any) -> str:
    """The template used for this tokenizer: its own, or FALLBACK_CHAT_TEMPLATE."""
    return getattr(tokenizer, "chat_template", None) or FALLBACK_CHAT_TEMPLATE


def stop_token_ids(tokenizer: Any) -> set[int]:
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    # convert_tokens_to_ids maps unknown tokens to the unk id (or None): keep only exact round trips.
    # (get_vocab() would be simpler but builds the whole vocabulary dict: 20 ms a call.)
    for token in END_OF_TURN_TOKENS:
        token_id = tokenizer.convert_tokens_to_ids(token)
        if isinstance(token_id, int) and tokenizer.convert_ids_to_tokens(token_id) == token:
            ids.add(token_id)
    return ids


def _render(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> str:
    from jinja2 import TemplateError

    try:
        return tokenizer.apply_chat_template(
            messages,
            chat_template=chat_template_for(tokenizer),
            tokenize=False,
            add_generation_prompt=generation_prompt,
        )
    except TemplateError as exc:
        # Templates refuse what their model was not trained on (e.g. Gemma: "System role not supported").
        raise TuneDeskError(
            f"The model's chat template refuses this conversation: {exc}",
            hint="Change the rows to what this model accepts (for example merge the system message into the "
            "first user message), or pick another model.",
            kind="template_rejected",
        ) from None


def render_spans(tokenizer: Any, messages: list[dict[str, str]]) -> list[tuple[str, bool]]:
    """The rendered conversation as consecutive (text, is_answer) pieces that join to the full rendering."""
    full = _render(tokenizer, messages, False)
    cuts: list[tuple[int, int]] = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        start = _render(tokenizer, messages[:i], True) if i else ""
        end = _render(tokenizer, messages[: i + 1], False)
        if not (end.startswith(start) and full.startswith(end)):
            cuts = []
            break
        cuts.append((len(start), len(end)))
    if not cuts:
        # Templates that rewrite earlier turns (e.g. drop reasoning) only allow supervising the last answer.
        last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
        start = _render(tokenizer, messages[:last], True)
        end = _render(tokenizer, messages, False)
        if not end.startswith(start):
            raise TuneDeskError(
                "This model's chat template renders a conversation differently from its own prefix, so the "
                "answer tokens cannot be found.",
                hint="Use a model with a standard chat template (ChatML, Llama 3, ...) or remove its template "
                "so TuneDesk's simple fallback template is used.",
                kind="bad_template",
            )
        cuts = [(len(start), len(end))]
        full = end
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for a, b in cuts:
        if a > pos:
            pieces.append((full[pos:a], False))
        pieces.append((full[a:b], True))
        pos = b
    if pos < len(full):
        pieces.append((full[pos:], False))
    return pieces


def tokenize_chat(
    tokenizer: Any, messages: list[dict[str, str]], stops: set[int] | None = None
) -> tuple[list[int], list[int]]:
    """input_ids and labels (-100 on everything but the answers and their end-of-turn token)."""
    stops = stop_token_ids(tokenizer) if stops is None else stops
    pieces = render_spans(tokenizer, messages)
    if getattr(tokenizer, "is_fast", False):
        return _tokenize_with_offsets(tokenizer, pieces, stops)
    input_ids: list[int] = []
    labels: list[int] = []
    for text, is_answer in pieces:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        input_ids.extend(ids)
        labels.extend(_answer_labels(ids, stops) if is_answer else [IGNORE] * len(ids))
    return input_ids, labels


def _answer_labels(ids: list[int], stops: set[int]) -> list[int]:
    """Label an answer's tokens up to and including its end-of-turn token; what follows stays unlabelled."""
    stop_at = max((k for k, t in enumerate(ids) if t in stops), default=len(ids) - 1)
    return ids[: stop_at + 1] + [IGNORE] * (len(ids) - stop_at - 1)


def _tokenize_with_offsets(
    tokenizer: Any, pieces: list[tuple[str, bool]], stops: set[int]
) -> tuple[list[int], list[int]]:
    """Tokenize the whole rendering once (exactly what the model reads, SentencePiece prefix spaces included)
    and label the tokens that start inside an answer's characters, as transformers' own assistant mask does."""
    enc = tokenizer("".join(t for t, _ in pieces), add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = enc["input_ids"]
    starts = [start for start, _end in enc["offset_mapping"]]
    labels = [IGNORE] * len(ids)
    pos = 0
    k = 0
    for text, is_answer in pieces:
        end = pos + len(text)
        first = k
        while k < len(ids) and starts[k] < end:
            k += 1
        if is_answer:
            inside = [j for j in range(first, k) if starts[j] >= pos]
            if inside:
                labels[inside[0] : inside[-1] + 1] = _answer_labels(ids[inside[0] : inside[-1] + 1], stops)
        pos = end
    return ids, labels
