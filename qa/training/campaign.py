"""A long reader-training campaign: all of SQuAD v1.1 train plus every kind of
unanswerable pair, over hours, on a shared CPU.

Run in the background with ``python -m qa.training campaign --config ...``.
What makes it survive many interruptions: a checkpoint every
``checkpoint_every_s`` seconds of wall clock (written aside, renamed into
place), resume by default from the last one with the same data order (the
data fingerprint is checked), and a JSONL log of windows seen, loss, held-out
F1 and per-kind abstention. Precision is measured, not assumed: a few fp32 and
bf16 steps are timed at every start and the faster one is used.

Evaluation reads only held-out SQuAD v1.1 *train* articles and held-out
SQuAD 2.0 articles; the SQuAD v1.1 dev file is never touched here.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.training.checkpoint import find_checkpoint, load_checkpoint, save_checkpoint
from qa.training.data import QAExample, load_squad_jsonl
from qa.training.features import PackedFeatures, pack_features
from qa.training.negatives import KINDS, NegativeMix, build_negatives, load_squad20_unanswerable, split_squad20
from qa.training.train import TrainConfig, _log, batch_order, resolve_base_model, training_rows

#: The shipped reader, whose decision rule (calibration and threshold) the evaluation applies.
SHIPPED_READER = Path(__file__).resolve().parents[2] / "models" / "reader"
#: Kind index 0 in the packed features; negatives are 1 + their index in KINDS.
ANSWERABLE = "answerable"


@dataclass
class CampaignData:
    train: list[QAExample]
    train_kinds: list[int]
    held: list[QAExample]
    held_negatives: dict[str, list[QAExample]]
    counts: dict


def squad20_rows(cfg: TrainConfig, held_titles: set[str]) -> tuple[list[QAExample], list[QAExample]]:
    """(train, held-out) real unanswerables: dev articles split by hash, train-file
    articles follow the SQuAD v1.1 hold-out (its titles are SQuAD v1.1 train titles)."""
    train: list[QAExample] = []
    held: list[QAExample] = []
    if cfg.squad20_train_file and Path(cfg.squad20_train_file).is_file():
        for r in load_squad20_unanswerable(cfg.squad20_train_file):
            (held if r.title in held_titles else train).append(r)
    if cfg.squad20_dev_file and Path(cfg.squad20_dev_file).is_file():
        a, b = split_squad20(load_squad20_unanswerable(cfg.squad20_dev_file), cfg.squad20_heldout_articles, cfg.seed)
        train, held = train + a, held + b
    return train, held


def campaign_data(cfg: TrainConfig) -> CampaignData:
    """Answerable questions and no-answer pairs of every kind, held-out articles kept apart."""
    rows = load_squad_jsonl(cfg.train_file)
    train_rows, held = training_rows(cfg, rows)
    s20_train, s20_held = squad20_rows(cfg, {r.title for r in held})
    negs = build_negatives(train_rows, NegativeMix.from_dict(cfg.negative_kinds), cfg.sampling_seed, s20_train)
    held_negs = build_negatives(held, NegativeMix.everything(), cfg.seed + 100, s20_held)
    examples, kinds = list(train_rows), [0] * len(train_rows)
    for k, kind in enumerate(KINDS, start=1):
        examples += negs[kind]
        kinds += [k] * len(negs[kind])
    counts = {
        "train_questions": len(train_rows),
        "heldout_questions": len(held),
        "negatives": {k: len(v) for k, v in negs.items()},
        "heldout_negatives": {k: len(v) for k, v in held_negs.items()},
    }
    return CampaignData(examples, kinds, held, held_negs, counts)


def decline_margin(settings) -> float:
    """The span margin below which the reader declines: confidence(margin) < threshold."""
    t, cal = settings.no_answer_threshold, settings.calibration
    return (math.log(t / (1 - t)) - cal.b) / cal.a


def evaluate(
    reader,
    held: list[QAExample],
    negatives: dict[str, list[QAExample]],
    n_answerable: int,
    n_per_kind: int,
    margin_rule: float,
) -> dict:
    """Answerable EM/F1 and, for answerable and every kind, % declined.

    ``declined`` uses the reader's decision rule (calibrated confidence below
    its threshold, i.e. margin < ``margin_rule``); ``declined_null`` counts the
    pairs where the [CLS] score beats every span (margin < 0).
    """
    from qa.evaluation.reader_eval import read_examples, score_answerable

    rng = random.Random(0)
    pos = rng.sample(held, min(n_answerable, len(held)))
    p = read_examples(reader, [e.question for e in pos], [e.context for e in pos])
    scores = score_answerable(p, [e.answers for e in pos])
    pct = lambda xs, m: round(100 * sum(x.margin < m for x in xs) / max(len(xs), 1), 1)  # noqa: E731
    declined, declined_null = {ANSWERABLE: pct(p, margin_rule)}, {ANSWERABLE: pct(p, 0.0)}
    for kind, pairs in negatives.items():
        if not pairs:
            continue
        s = rng.sample(pairs, min(n_per_kind, len(pairs)))
        q = read_examples(reader, [e.question for e in s], [e.context for e in s])
        declined[kind], declined_null[kind] = pct(q, margin_rule), pct(q, 0.0)
    return {
        "exact_match": round(scores["exact_match"], 2),
        "f1": round(scores["f1"], 2),
        "answerable_count": len(p),
        "decline_margin": round(margin_rule, 3),
        "declined": declined,
        "declined_null": declined_null,
    }


def _step_seconds(model, inputs, bf16: bool) -> float:
    """CPU seconds of one forward+backward step (gradients discarded, weights untouched).

    Process CPU time, not wall time: a campaign paused (SIGSTOP) or sharing the
    cores while it measures once chose float32 where bf16 was the faster.
    """
    import torch

    t = time.process_time()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = model(**inputs).loss
    loss.backward()
    model.zero_grad(set_to_none=True)
    return time.process_time() - t


def time_precisions(model, batches, warmup: int = 2) -> tuple[float, float]:
    """Median (fp32, bf16) step seconds, the two timed alternately on the same batches.

    Alternating matters on a shared machine: load that comes and goes hits
    both precisions alike instead of whichever happened to run second.
    """
    for inputs in batches[:warmup]:
        _step_seconds(model, inputs, False)
        _step_seconds(model, inputs, True)
    fp32, bf16 = [], []
    for inputs in batches[warmup:]:
        fp32.append(_step_seconds(model, inputs, False))
        bf16.append(_step_seconds(model, inputs, True))
    return sorted(fp32)[len(fp32) // 2], sorted(bf16)[len(bf16) // 2]


def choose_precision(
    setting, model, feats: PackedFeatures, pad_id: int, batch_size: int, *, device: str = "cpu"
) -> dict:
    """bf16 only when measured faster here: it pays off with native bf16 and loses without.

    On a GPU, ``auto`` is bf16 wherever the GPU supports it (no timing needed).
    """
    if setting is not True and setting is not False and setting != "auto":
        raise ValueError(f'bf16 must be true, false or "auto", not {setting!r}')
    if setting != "auto":
        return {"bf16": bool(setting), "measured": False}
    import torch

    if device != "cpu":
        return {"bf16": torch.cuda.is_bf16_supported(), "measured": False}

    idx = list(range(0, len(feats), max(1, len(feats) // 6)))[:6]
    batches = [
        {
            k: torch.from_numpy(v)
            for k, v in feats.batch([(i + j) % len(feats) for j in range(batch_size)], pad_id).items()
        }
        for i in idx
    ]
    fp32, bf16 = time_precisions(model, batches)
    return {
        "bf16": bf16 < fp32,
        "measured": True,
        "fp32_s_per_step": round(fp32, 3),
        "bf16_s_per_step": round(bf16, 3),
        "speedup": round(fp32 / bf16, 2),
        "batch_size": batch_size,
    }


def training_device(name: str):
    """The torch device to train on; a clear error where CUDA is asked for and there is none."""
    import torch

    if name not in ("cpu", "cuda"):
        raise SystemExit(f'device must be "cpu" or "cuda", not {name!r}')
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here (no GPU, or a CPU-only torch); use --device cpu")
    return torch.device(name)


def _optimizer(model, cfg: TrainConfig, total_steps: int):
    import torch

    no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
            "weight_decay": cfg.weight_decay,
        },
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate)
    warmup = max(1, int(total_steps * cfg.warmup_fraction))

    def lr_lambda(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)


def run_campaign(cfg: TrainConfig) -> Path:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from qa.readers.extractive import ExtractiveReader, ReaderSettings

    device = training_device(cfg.device)  # before hours of data preparation, not after
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    base = resolve_base_model(cfg.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    t_data = time.time()
    data = campaign_data(cfg)
    feats = pack_features(tokenizer, data.train, data.train_kinds, cfg.max_length, cfg.stride)
    fingerprint = feats.fingerprint()
    steps_per_epoch = math.ceil(len(feats) / cfg.batch_size)
    total_steps = max(1, int(steps_per_epoch * cfg.epochs))
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps)
    _log(
        out,
        {
            "event": "data",
            **data.counts,
            "windows": len(feats),
            "steps_per_epoch": steps_per_epoch,
            "total_steps": total_steps,
            "fingerprint": fingerprint,
            "seconds": round(time.time() - t_data, 1),
            "comment": cfg.comment,
        },
    )

    ckpt = find_checkpoint(out)
    src = str(ckpt) if ckpt else (cfg.init_from or base)
    model = AutoModelForQuestionAnswering.from_pretrained(
        src, use_safetensors=True, dtype=torch.float32, attention_probs_dropout_prob=0.0
    )
    model.to(device).train()
    optimizer, scheduler = _optimizer(model, cfg, total_steps)
    step, seen, train_s = 0, 0, 0.0
    if ckpt:
        saved = load_checkpoint(ckpt, optimizer, scheduler)
        if saved.get("fingerprint") != fingerprint:
            raise RuntimeError(
                f"{ckpt} was trained on other data ({saved.get('fingerprint')} != {fingerprint}); "
                "use a new output_dir or restore the config"
            )
        step, seen, train_s = saved["step"], saved["windows_seen"], saved.get("train_seconds", 0.0)
        _log(out, {"event": "resume", "step": step, "windows_seen": seen, "from": str(ckpt)})
    pad_id = tokenizer.pad_token_id or 0
    prec = choose_precision(cfg.bf16, model, feats, pad_id, cfg.batch_size, device=device.type)
    bf16 = prec["bf16"]
    _log(out, {"event": "precision", **prec, "precision": "bf16" if bf16 else "fp32", "threads": cfg.threads})
    init_dir = Path(cfg.init_from) if cfg.init_from else SHIPPED_READER
    settings = ReaderSettings.load(init_dir if (init_dir / "newsdesk_reader.json").is_file() else SHIPPED_READER)
    rule = decline_margin(settings)

    def state() -> dict:
        return {
            "step": step,
            "windows_seen": seen,
            "total_steps": total_steps,
            "fingerprint": fingerprint,
            "train_seconds": round(train_s, 1),
            "precision": "bf16" if bf16 else "fp32",
        }

    last_ckpt = last_eval = t_log = time.time()
    loss_acc, n_acc, seen_log = 0.0, 0, seen
    while step < total_steps:
        epoch = step // steps_per_epoch
        for b in batch_order(feats.lengths, cfg.batch_size, cfg.sampling_seed, epoch)[step % steps_per_epoch :]:
            if step >= total_steps:
                break
            t = time.time()
            inputs = {k: torch.from_numpy(v).to(device) for k, v in feats.batch(b, pad_id).items()}
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = model(**inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step, seen = step + 1, seen + len(b)
            train_s += time.time() - t
            loss_acc, n_acc = loss_acc + float(loss.detach()), n_acc + 1
            done = step == total_steps
            if step % 20 == 0 or done:
                dt = time.time() - t_log
                _log(
                    out,
                    {
                        "event": "train",
                        "step": step,
                        "total_steps": total_steps,
                        "epoch": round(step / steps_per_epoch, 4),
                        "windows_seen": seen,
                        "loss": round(loss_acc / n_acc, 4),
                        "lr": scheduler.get_last_lr()[0],
                        "windows_per_s": round((seen - seen_log) / dt, 2),
                        "seconds": round(train_s, 1),
                        "precision": "bf16" if bf16 else "fp32",
                    },
                )
                t_log, loss_acc, n_acc, seen_log = time.time(), 0.0, 0, seen
            if time.time() - last_ckpt >= cfg.checkpoint_every_s or done:
                path = save_checkpoint(out, model, optimizer, scheduler, state())
                _log(out, {"event": "checkpoint", "step": step, "windows_seen": seen, "path": str(path)})
                last_ckpt = time.time()
            if (cfg.eval_every_s and time.time() - last_eval >= cfg.eval_every_s) or done:
                model.eval()
                reader = ExtractiveReader.from_loaded(
                    tokenizer,
                    model,
                    ReaderSettings(max_length=cfg.max_length, stride=cfg.stride),
                    bf16=bf16,
                    device=str(device),
                )
                t_eval = time.time()
                scores = evaluate(
                    reader, data.held, data.held_negatives, cfg.eval_questions, cfg.eval_pairs_per_kind, rule
                )
                model.train()
                _log(
                    out,
                    {
                        "event": "eval",
                        "step": step,
                        "windows_seen": seen,
                        "seconds": round(train_s, 1),
                        "eval_seconds": round(time.time() - t_eval, 1),
                        "precision": "bf16" if bf16 else "fp32",
                        **scores,
                    },
                )
                last_eval = t_log = time.time()
                seen_log = seen
    return out / "checkpoint-last"
