"""`tunedesk chat MODEL.gguf`: one streamed answer (--prompt) or an interactive session."""

from __future__ import annotations

import argparse
import sys

from tunedesk.cli.main import add_command, print_json

HELP = "chat with a GGUF model (e.g. one made by `tunedesk export`)"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "chat", run=run, help=HELP)
    p.add_argument("model", metavar="MODEL.gguf", help="the GGUF file")
    p.add_argument(
        "--system",
        default=None,
        help="system prompt (default: the one the run trained with, for a GGUF exported by TuneDesk; else the "
        "model's own). --system '' uses the model's own",
    )
    p.add_argument("--prompt", default=None, help="ask one question and exit")
    p.add_argument(
        "--temperature", type=float, default=0.7, help="0 = always the most likely word (default 0.7)"
    )
    p.add_argument("--top-p", type=float, default=0.9, help="nucleus sampling (default 0.9)")
    p.add_argument("--max-tokens", type=int, default=256, help="longest answer in tokens (default 256)")
    p.add_argument("--ctx", type=int, default=2048, help="context window in tokens (default 2048)")


def _answer(engine, text: str, args: argparse.Namespace, *, echo: bool) -> str:
    pieces = []
    for piece in engine.stream(
        text, temperature=args.temperature, top_p=args.top_p, max_tokens=args.max_tokens
    ):
        pieces.append(piece)
        if echo:
            print(piece, end="", flush=True)
    if echo:
        print()
    return "".join(pieces)


def run(args: argparse.Namespace) -> int:
    from tunedesk.core.chat import ChatEngine
    from tunedesk.core.chat.llama_backends import cpu_variant

    engine = ChatEngine(args.model, n_ctx=args.ctx, system_prompt=args.system)
    if args.prompt is not None:
        answer = _answer(engine, args.prompt, args, echo=not args.json)
        st = engine.last_stats
        if args.json:
            print_json(
                {
                    "answer": answer,
                    "tokens": st.tokens,
                    "tokens_per_second": st.tokens_per_second,
                    "ttft": st.time_to_first_token,
                    "finish_reason": st.finish_reason,
                    # the installer's llama.cpp picks its CPU code at run time (None: a one-CPU-code build)
                    "cpu_code": cpu_variant(),
                }
            )
        else:
            print(f"({st.tokens} tokens, {st.tokens_per_second or 0:.1f} tokens/s)", file=sys.stderr)
        return 0
    print(
        f"Chatting with {engine.model_path.name}. /reset forgets the conversation, /exit quits.",
        file=sys.stderr,
    )
    if engine.system_prompt and engine.system_prompt == engine.trained_system_prompt:
        print(f"System prompt (the one it was trained with): {engine.system_prompt}", file=sys.stderr)
    while True:
        try:
            text = input("> ").strip()
        except EOFError:
            print()
            return 0
        if text in ("/exit", "/quit"):
            return 0
        if text == "/reset":
            engine.reset()
            print("(conversation forgotten)", file=sys.stderr)
            continue
        if not text:
            continue
        try:
            _answer(engine, text, args, echo=True)
        except KeyboardInterrupt:
            engine.cancel()
            print("\n(stopped)", file=sys.stderr)
            continue
        if engine.notice:
            print(f"({engine.notice})", file=sys.stderr)
