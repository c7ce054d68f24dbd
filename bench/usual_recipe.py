"""The recipe people copy, written out plainly: transformers Trainer + peft, LoRA r16 on the attention
projections (q/k/v/o), batch 8, dynamic padding, fp32, loss on the assistant's tokens only.

bench/train.py runs it as a child process on the same split a TuneDesk run wrote, so both train on the same
rows and are scored on the same validation rows with the same measure (mean loss per answer token).

    python bench/usual_recipe.py MODEL_DIR RUN_DIR/data OUT.json --steps 16 --seq-len 192 --rank 16 --batch 8
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def encode(tokenizer, messages: list[dict], seq_len: int) -> dict:
    prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    ids = tokenizer(full, add_special_tokens=False)["input_ids"][:seq_len]
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    labels = [-100] * min(n_prompt, len(ids)) + ids[n_prompt:]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def read_rows(path: Path) -> list[list[dict]]:
    return [json.loads(line)["messages"] for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir")
    ap.add_argument("data_dir", help="a TuneDesk run's data folder (train.jsonl, val.jsonl)")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-4)
    args = ap.parse_args()

    t_start = time.perf_counter()
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        DataCollatorForSeq2Seq,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(args.model_dir, dtype=torch.float32)
    lora = LoraConfig(
        r=args.rank,
        lora_alpha=2 * args.rank,
        lora_dropout=0.05,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    data = Path(args.data_dir)
    train = [encode(tokenizer, m, args.seq_len) for m in read_rows(data / "train.jsonl")]
    val = [encode(tokenizer, m, args.seq_len) for m in read_rows(data / "val.jsonl")]

    pad = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    batch_tokens: list[int] = []

    def collate(rows: list[dict]) -> dict:
        batch = pad(rows)
        batch_tokens.append(int(batch["attention_mask"].sum()))  # real tokens, padding excluded
        return batch

    class StepTimes(TrainerCallback):
        def __init__(self) -> None:
            self.seconds: list[float] = []
            self.t0 = 0.0

        def on_step_begin(self, *a, **k):
            self.t0 = time.perf_counter()

        def on_step_end(self, *a, **k):
            self.seconds.append(time.perf_counter() - self.t0)

    times = StepTimes()
    targs = TrainingArguments(
        output_dir=str(Path(args.out).with_suffix(".trainer")),
        per_device_train_batch_size=args.batch,
        max_steps=args.steps,
        learning_rate=args.lr,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, args.steps // 10),
        logging_steps=1,
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        remove_unused_columns=False,
        seed=42,
    )
    trainer = Trainer(model=model, args=targs, train_dataset=train, data_collator=collate, callbacks=[times])
    t_train = time.perf_counter()
    trainer.train()
    train_wall = time.perf_counter() - t_train

    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(val), args.batch):
            batch = pad(val[i : i + args.batch])
            batch = {k: v.to(model.device) for k, v in batch.items()}
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            labels = batch["labels"][:, 1:]
            keep = labels != -100
            total += float(
                torch.nn.functional.cross_entropy(logits[:, :-1][keep].float(), labels[keep], reduction="sum")
            )
            count += int(keep.sum())
    step_tokens = batch_tokens[: len(times.seconds)]
    result = {
        "steps": len(times.seconds),
        "step_seconds": times.seconds,
        "step_tokens": step_tokens,
        "trained_tokens": sum(step_tokens),
        "train_wall_s": train_wall,
        "val_loss": total / count if count else None,
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "total_params": sum(p.numel() for p in model.parameters()),
        "process_s": time.perf_counter() - t_start,
    }
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
