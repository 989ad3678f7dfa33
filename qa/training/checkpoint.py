"""Resumable training checkpoints without pickle: safetensors and JSON only.

A checkpoint is a folder with the model (``model.safetensors``), the AdamW
moments (``optimizer.safetensors``) and a ``state.json`` holding the step,
the schedule and the optimizer's hyperparameters. It is written beside the
last one and renamed into place, so a kill at any moment leaves a complete
checkpoint to resume from.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

OPTIMIZER_FILE = "optimizer.safetensors"


def optimizer_tensors(optimizer) -> tuple[dict, list[dict]]:
    """(flat tensors ``"<param index>.<name>"``, param groups) of an optimizer's state."""
    sd = optimizer.state_dict()
    flat = {}
    for idx, st in sd["state"].items():
        for name, value in st.items():
            flat[f"{idx}.{name}"] = value.detach().reshape(-1).contiguous().clone()
    return flat, sd["param_groups"]


def load_optimizer_tensors(optimizer, flat: dict, groups: list[dict]) -> None:
    """Inverse of ``optimizer_tensors``; scalar entries (AdamW's ``step``) get their shape back."""
    current = optimizer.state_dict()
    shapes = {i: p.shape for i, p in enumerate(p for g in optimizer.param_groups for p in g["params"])}
    state: dict[int, dict] = {}
    for key, value in flat.items():
        idx, name = key.split(".", 1)
        i = int(idx)
        state.setdefault(i, {})[name] = value.reshape(()) if name == "step" else value.reshape(shapes[i])
    current["state"] = state
    current["param_groups"] = groups
    optimizer.load_state_dict(current)


def save_checkpoint(out: Path, model, optimizer, scheduler, state: dict) -> Path:
    """Write ``out/checkpoint-last`` atomically (aside, then renamed)."""
    from safetensors.torch import save_file

    tmp = out / ".checkpoint-tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    flat, groups = optimizer_tensors(optimizer)
    save_file(flat, str(tmp / OPTIMIZER_FILE))
    sched = {k: v for k, v in scheduler.state_dict().items() if k != "lr_lambdas"}
    full = {**state, "param_groups": groups, "scheduler": sched}
    (tmp / "state.json").write_text(json.dumps(full, indent=2))
    last, old = out / "checkpoint-last", out / ".checkpoint-old"
    if old.exists():
        shutil.rmtree(old)
    if last.exists():
        last.rename(old)
    tmp.rename(last)
    if old.exists():
        shutil.rmtree(old)
    return last


def find_checkpoint(out: Path) -> Path | None:
    """The newest complete checkpoint (the previous one survives a crash mid-rename)."""
    for name in ("checkpoint-last", ".checkpoint-old"):
        p = Path(out) / name
        if (p / "state.json").is_file() and (p / "model.safetensors").is_file():
            return p
    return None


def load_checkpoint(ckpt: Path, optimizer, scheduler) -> dict:
    """Restore optimizer and schedule from ``ckpt``; returns its state (step, windows seen, ...)."""
    from safetensors.torch import load_file

    state = json.loads((Path(ckpt) / "state.json").read_text())
    load_optimizer_tensors(optimizer, load_file(str(Path(ckpt) / OPTIMIZER_FILE)), state.pop("param_groups"))
    sched = state.pop("scheduler")
    scheduler.load_state_dict({**sched, "lr_lambdas": [None] * len(optimizer.param_groups)})
    return state
