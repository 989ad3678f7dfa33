"""Which numeric precision the reader and the embedder run in, chosen by measurement.

A CPU flag does not say whether bf16 or int8 pays off: on one machine bf16
autocast was 1.5x slower than float32 (no native bf16), on another 2.4x
faster (AVX512-BF16). So each model is timed once per machine in every
precision the CPU can run, on a fixed probe set, and the fastest precision
whose outputs agree with float32 on that probe wins. The result is cached in
the user data folder, keyed by everything that could change it (CPU model and
flags, thread count, library versions, the model), so later runs only read
a small JSON file.

The choice can be forced: ``Assistant(precision=...)``, ``--precision`` on the
command line, or ``NEWSDESK_PRECISION`` in the environment (in that order).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

log = logging.getLogger("qa")

ENV_VAR = "NEWSDESK_PRECISION"
CACHE_FILE = "precision.json"
#: Bumped when the probe set or the agreement rules change, so old choices are re-measured.
PROBE_VERSION = 3  # 2: int8 through ONNX Runtime; 3: fused, 8-bit weights on VNNI
#: A precision must be this much faster than float32 to replace it; below that is timing noise.
MIN_SPEEDUP = 1.10
#: CPU flags that decide what the lower precisions cost (part of the cache key).
RELEVANT_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_bf16", "amx_int8", "avx_ne_convert")


class Precision(str, Enum):
    """Numeric precision of a model's forward pass."""

    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"
    INT8 = "int8"


class Source(str, Enum):
    """Why a precision is in use."""

    MEASURED = "measured"
    CACHED = "cached"
    FORCED = "forced"


@dataclass
class Trial:
    """One precision's probe result: agreement with float32 and, when it agrees, its best time."""

    precision: Precision
    ms: float | None
    agrees: bool
    note: str = ""


@dataclass
class Choice:
    """The precision a model runs in, and why."""

    role: str
    precision: Precision
    source: Source
    reason: str = ""
    trials: list[Trial] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "role": self.role,
            "precision": self.precision.value,
            "source": self.source.value,
            "reason": self.reason,
            "trials": [{**asdict(t), "precision": t.precision.value} for t in self.trials],
        }

    @classmethod
    def from_dict(cls, raw: dict, source: Source) -> Choice:
        trials = [
            Trial(
                precision=Precision(t["precision"]),
                agrees=bool(t["agrees"]),
                note=t.get("note", ""),
                ms=None if t.get("ms") is None else float(t["ms"]),
            )
            for t in raw.get("trials", [])
        ]
        return cls(
            role=raw["role"],
            precision=Precision(raw["precision"]),
            source=source,
            reason=raw.get("reason", ""),
            trials=trials,
        )

    def summary(self) -> str:
        """One line: ``bf16 (cached; fp32 176 ms, bf16 72 ms, int8 71 ms disagrees)``."""
        times = ", ".join(
            f"{t.precision.value} {t.ms:.0f} ms" if t.agrees else f"{t.precision.value} disagrees" for t in self.trials
        )
        detail = "; ".join(x for x in (self.source.value, times) if x)
        return f"{self.precision.value} ({detail})"


# -- what was asked for ---------------------------------------------------------------
def parse(value: str | Precision | None) -> Precision | None:
    """A Precision from user text (``None`` and ``""`` stay None); unknown text raises ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, Precision):
        return value
    try:
        return Precision(str(value).strip().lower())
    except ValueError:
        allowed = "|".join(p.value for p in Precision)
        raise ValueError(f"unknown precision {value!r}: use {allowed}") from None


def requested(explicit: str | Precision | None = None) -> Precision:
    """What the caller wants: an explicit non-auto value, else ``NEWSDESK_PRECISION``, else auto."""
    p = parse(explicit)
    if p is not None and p is not Precision.AUTO:
        return p
    env = parse(os.environ.get(ENV_VAR))
    return env if env is not None else Precision.AUTO


# -- the machine ------------------------------------------------------------------------
def cpu_info() -> dict:
    """CPU model name and the flags that matter for bf16 and int8 speed."""
    model = "unknown"
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {"model": model, "flags": sorted(f for f in RELEVANT_FLAGS if f in flags)}


def candidates(cpu: dict | None = None) -> list[Precision]:
    """Precisions worth timing here; the flags are only a hint of what might pay off."""
    flags = set((cpu or cpu_info())["flags"])
    out = [Precision.FP32]
    if flags & {"avx512_bf16", "amx_bf16", "avx_ne_convert"}:
        out.append(Precision.BF16)
    if flags & {"avx2", "avx512_vnni", "avx_vnni", "amx_int8"}:
        out.append(Precision.INT8)
    return out


def cache_key(role: str, model_id: str, libraries: Sequence[str]) -> dict:
    """Everything a measured choice depends on."""
    from importlib.metadata import PackageNotFoundError, version

    import torch

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"

    return {
        "role": role,
        "model": model_id,
        "cpu": cpu_info(),
        "threads": torch.get_num_threads(),
        "versions": {name: ver(name) for name in ("torch", *libraries)},
        "probe": PROBE_VERSION,
    }


def model_id(path: str | Path) -> str:
    """The model's path plus the size and time of its weights, so a retrained model is re-measured."""
    p = Path(path)
    for name in ("model.safetensors", "pytorch_model.bin"):
        w = p / name
        if w.is_file():
            st = w.stat()
            return f"{p.resolve()}:{st.st_size}:{int(st.st_mtime)}"
    return str(path)


# -- the cache ----------------------------------------------------------------------------
def cache_path() -> Path:
    from qa.resources import data_home

    return data_home() / CACHE_FILE


def _digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


#: Choices already made in this process (so many Assistants in one process probe once).
_MEMO: dict[str, Choice] = {}


def load_cached(key: dict) -> Choice | None:
    digest = _digest(key)
    if digest in _MEMO:
        return Choice.from_dict(_MEMO[digest].to_dict(), Source.CACHED)
    try:
        raw = json.loads(cache_path().read_text(encoding="utf-8"))
        return Choice.from_dict(raw[digest]["choice"], Source.CACHED)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget_memo() -> None:
    """Drop this process's remembered choices (the cache file stays)."""
    _MEMO.clear()


def save_cached(key: dict, choice: Choice) -> None:
    """Add one choice to the cache file (atomically); a read-only data folder is not an error."""
    path = cache_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        raw = {}
    _MEMO[_digest(key)] = choice
    raw[_digest(key)] = {"key": key, "choice": choice.to_dict()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.warning("could not cache the precision choice in %s: %s", path, exc)


# -- choosing -------------------------------------------------------------------------------
def pick(trials: Sequence[Trial]) -> tuple[Precision, str]:
    """The fastest precision that agrees with float32 and beats it by MIN_SPEEDUP."""
    base = next((t for t in trials if t.precision is Precision.FP32), None)
    if base is None:
        return Precision.FP32, "no float32 timing"
    ok = [t for t in trials if t.agrees and t.precision is not Precision.FP32]
    best = min(ok, key=lambda t: t.ms or float("inf"), default=None)
    if best is None or not best.ms or not base.ms:
        return Precision.FP32, "no other precision agreed with fp32 on the probe"
    speedup = base.ms / best.ms
    if speedup < MIN_SPEEDUP:
        return Precision.FP32, f"{best.precision.value} only {speedup:.2f}x faster than fp32"
    return best.precision, f"{speedup:.2f}x faster than fp32 and agrees on the probe"


def resolve(
    role: str,
    model_path: str | Path,
    explicit: str | Precision | None,
    measure: Callable[[list[Precision]], list[Trial]],
    libraries: Sequence[str] = (),
    settings: dict | None = None,
) -> Choice:
    """Forced, else cached for this machine and model, else measured now (and cached).

    ``settings`` are whatever else the measurement depends on (a reader's recorded int8 loss).
    """
    want = requested(explicit)
    if want is not Precision.AUTO:
        return Choice(role=role, precision=want, source=Source.FORCED, reason=f"set by the caller or {ENV_VAR}")
    key = cache_key(role, model_id(model_path), libraries)
    if settings:
        key["settings"] = settings
    cached = load_cached(key)
    if cached is not None:
        return cached
    t0 = time.perf_counter()
    busy_before = machine_busy()
    trials = measure(candidates(key["cpu"]))
    chosen, reason = pick(trials)
    busy = busy_before or machine_busy()
    choice = Choice(
        role=role,
        precision=chosen,
        source=Source.MEASURED,
        reason=f"{reason} (probe took {time.perf_counter() - t0:.1f}s"
        + ("; the machine was busy, so it is measured again next time)" if busy else ")"),
        trials=trials,
    )
    if busy:  # timings taken while other work held the cores say little about this machine
        _MEMO[_digest(key)] = choice
    else:
        save_cached(key, choice)
    log.info("%s precision: %s", role, choice.summary())
    return choice


def machine_busy() -> bool:
    """True when other work keeps more runnable threads than the CPU has cores (1-minute load average).

    A probe timed then would be cached for good on a guess: one measured
    on a loaded machine chose fp32 for an embedder that runs 1.35x faster
    in bf16 when the cores are free.
    """
    try:
        return os.getloadavg()[0] > (os.cpu_count() or 1)
    except OSError:
        return False


# -- converting and timing ----------------------------------------------------------------
def convert(model, precision: Precision):
    """A copy of a float32 model in ``precision`` (the float32 model itself for FP32)."""
    import torch

    if precision is Precision.BF16:
        return copy.deepcopy(model).to(torch.bfloat16)
    if precision is Precision.INT8:
        return int8_model(model)
    return model


def int8_model(model, *, full_range: bool | None = None):
    """int8 through ONNX Runtime (``qa.int8``: closer to float32 than PyTorch's on held-out
    questions) for a question-answering model or a mean-pooling sentence encoder, else PyTorch's.
    ``full_range``: 8-bit weights (default: where the CPU has VNNI)."""
    from qa import int8

    if int8.available() and hasattr(model, "qa_outputs"):
        return int8.quantized(model, head=int8.Head.SPANS, full_range=full_range)
    if int8.available() and hasattr(model, "encode") and int8.encoder_supported(model):
        graph = int8.quantized(model[0].auto_model, head=int8.Head.TOKENS, full_range=full_range)
        return int8.OnnxSentenceEncoder(model, graph)
    return quantize_int8(model)


def quantize_int8(model):
    """A copy with every linear layer in dynamic int8, weights scaled per output channel.

    Per-channel scales keep more of the reader than one scale per tensor:
    on 600 held-out SQuAD train questions F1 fell 1.1 points instead of 2.1
    (skipping the first and last layers and the span head too: 0.85).
    """
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)


def best_ms(fns: dict[Precision, Callable[[], object]], repeats: int = 2) -> dict[Precision, float]:
    """Best wall time of each (already warmed) function; rounds interleave the precisions,
    so a burst of load from other processes hits them all alike."""
    times: dict[Precision, list[float]] = {p: [] for p in fns}
    for _ in range(repeats):
        for p, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[p].append(1000 * (time.perf_counter() - t0))
    return {p: min(ts) for p, ts in times.items()}


#: A fixed probe: news-style passages of roughly one reader window each, and questions on
#: them (the last one is not answered by its passage). Agreement is judged on these.
PROBE: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "The city council of Maribel voted on Tuesday to close the old harbour bridge for repairs that "
        "engineers say will take at least eighteen months. The bridge, built in 1931, carries about 40,000 "
        "vehicles a day and has been under a weight limit since a routine inspection in March found "
        "corrosion in two of its steel supports. Mayor Ines Kallberg said the closure would start on 1 June "
        "and that a free ferry service would run every fifteen minutes between the two banks while the work "
        "goes on. The repairs are expected to cost 212 million euros, most of it paid by the national "
        "transport fund. Shop owners on the north bank warned that the closure could cut their trade by a "
        "third, and the chamber of commerce asked the council for a temporary cut in local business taxes. "
        "The council said it would consider the request at its next meeting in May. Opposition members "
        "criticised the timing, arguing the work should have begun in winter, when traffic is lighter.",
        (
            "How much are the bridge repairs expected to cost?",
            "When will the bridge closure start?",
            "Who is the mayor of Maribel?",
        ),
    ),
    (
        "Researchers at the Lund Institute of Marine Science said on Monday that a survey of the northern "
        "coast had counted 1,240 grey seal pups this winter, the highest number since records began in 1988. "
        "The survey team, led by biologist Tomas Varga, used drones to photograph the colonies without "
        "disturbing the animals. Varga said warmer winters and a ban on net fishing near the breeding "
        "beaches had helped the population recover after decades of decline. Fishermen's groups, however, "
        "said the growing number of seals was eating into their catches of cod and herring, and called for a "
        "limited cull. The environment ministry rejected the call, saying that grey seals remain a protected "
        "species under European law. The institute plans to repeat the survey every two years and to fit "
        "twenty pups with satellite tags to follow where they feed during their first year at sea.",
        ("Who led the seal survey?", "How many grey seal pups were counted?", "What is the population of Lund?"),
    ),
)


def probe_pairs() -> list[tuple[str, str]]:
    """(question, passage) pairs of the probe, in a fixed order."""
    return [(q, text) for text, questions in PROBE for q in questions]
