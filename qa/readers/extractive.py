"""The extractive reader: an AutoModelForQuestionAnswering and its decoding.

The model is loaded lazily (``warm_up``) and once per process per path, so an
Assistant, the evaluator and the TUI share one copy. Spans are decoded by
``qa.readers.spans``; this module adds batching, bf16 autocast and the
calibration stored beside the model.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from qa.resources import reader_path
from qa.readers.spans import SpanCandidate, decode_window, encode_windows, pad_windows

#: Settings file written next to a trained model (calibration, threshold, window).
READER_SETTINGS = "newsdesk_reader.json"

_MODEL_CACHE: dict[tuple[str, str], tuple[Any, Any]] = {}
_MODEL_LOCK = threading.Lock()


@dataclass
class Calibration:
    """Maps a span margin (span logit minus null logit) to P(answer is right).

    A one-feature logistic fit on held-out data: ``sigmoid(a * margin + b)``.
    """

    a: float = 0.5
    b: float = 0.0

    def confidence(self, margin: float) -> float:
        z = self.a * margin + self.b
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        ez = math.exp(z)
        return ez / (1.0 + ez)


@dataclass
class ReaderSettings:
    """Decoding settings and calibration that travel with a trained model."""

    max_length: int = 256
    stride: int = 64
    max_answer_tokens: int = 30
    no_answer_threshold: float = 0.3
    #: "int8" to read with dynamically quantized linear layers (chosen at export).
    quantize: str | None = None
    calibration: Calibration = field(default_factory=Calibration)

    @classmethod
    def load(cls, model_dir: Path) -> "ReaderSettings":
        p = Path(model_dir) / READER_SETTINGS
        if not p.is_file():
            return cls()
        raw = json.loads(p.read_text(encoding="utf-8"))
        cal = Calibration(**raw.pop("calibration", {}))
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(calibration=cal, **known)

    def save(self, model_dir: Path) -> None:
        p = Path(model_dir) / READER_SETTINGS
        tmp = p.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        tmp.replace(p)


@dataclass
class ContextPrediction:
    """What the reader found in one (question, context) pair."""

    candidates: list[SpanCandidate]
    #: Highest span margin over the context's windows (-inf when no span).
    best_margin: float


def cpu_supports_bf16() -> bool:
    """True when bf16 autocast pays off on this CPU: it needs AMX tiles.

    With AVX512-BF16 alone, autocast measured slower than float32 (its casts
    cost more than the faster matmuls save), so it stays off there.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags


def load_model(model: str | Path, device: str = "cpu", quantize: str | None = None):
    """Load (tokenizer, model) once per process; safetensors only, no remote code.

    ``quantize="int8"`` applies dynamic int8 quantization to the linear layers
    (CPU only), which roughly halves reading time.
    """
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    key = (str(model), f"{device}:{quantize or 'fp32'}")
    with _MODEL_LOCK:
        if key not in _MODEL_CACHE:
            tok = AutoTokenizer.from_pretrained(str(model))
            mdl = AutoModelForQuestionAnswering.from_pretrained(
                str(model), use_safetensors=True, dtype="float32"
            )
            mdl.to(device).eval()
            if quantize == "int8" and device == "cpu":
                import torch

                mdl = torch.ao.quantization.quantize_dynamic(mdl, {torch.nn.Linear}, dtype=torch.qint8)
            _MODEL_CACHE[key] = (tok, mdl)
        return _MODEL_CACHE[key]


class ExtractiveReader:
    """Reads passages and returns exact character spans that answer a question."""

    def __init__(
        self,
        model: str | Path | None = None,
        device: str = "cpu",
        batch_size: int = 16,
        bf16: bool | None = None,
        spans_per_context: int = 3,
        settings: ReaderSettings | None = None,
        quantize: str | None = None,
    ) -> None:
        self.model_name = str(reader_path(model))
        self.device = device
        self.batch_size = batch_size
        self.bf16 = cpu_supports_bf16() if bf16 is None else bf16
        self.spans_per_context = spans_per_context
        local = Path(self.model_name)
        self.settings = settings or (ReaderSettings.load(local) if local.is_dir() else ReaderSettings())
        self.quantize = quantize if quantize is not None else self.settings.quantize
        self._tokenizer = None
        self._model = None

    @classmethod
    def from_loaded(cls, tokenizer, model, settings: ReaderSettings, bf16: bool | None = None,
                    **kwargs) -> "ExtractiveReader":
        """Wrap a tokenizer and model already in memory (training, tests)."""
        reader = cls(model="<in-memory>", settings=settings, bf16=bf16, **kwargs)
        reader._tokenizer, reader._model = tokenizer, model
        return reader

    # -- config -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "device": self.device,
            "batch_size": self.batch_size,
            "bf16": self.bf16,
            "spans_per_context": self.spans_per_context,
            "quantize": self.quantize,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExtractiveReader":
        return cls(**data)

    # -- loading ------------------------------------------------------------
    def warm_up(self) -> None:
        if self._model is None:
            self._tokenizer, self._model = load_model(self.model_name, self.device, self.quantize)

    @property
    def tokenizer(self):
        self.warm_up()
        return self._tokenizer

    def tokenizer_only(self):
        """The reader's tokenizer, loaded without the model weights."""
        if self._tokenizer is not None:
            return self._tokenizer
        return load_tokenizer(self.model_name)

    @property
    def model(self):
        self.warm_up()
        return self._model

    # -- reading ------------------------------------------------------------
    def logits(self, windows) -> list[tuple[np.ndarray, np.ndarray]]:
        """Start/end logits for each window, batched by similar length."""
        import torch

        self.warm_up()
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(windows)
        pad_id = self._tokenizer.pad_token_id or 0
        for lo in range(0, len(order), self.batch_size):
            idx = order[lo : lo + self.batch_size]
            batch = pad_windows([windows[i] for i in idx], pad_id)
            tensors = {k: torch.from_numpy(v).to(self.device) for k, v in batch.items()}
            with torch.inference_mode(), torch.autocast(
                "cpu", dtype=torch.bfloat16, enabled=self.bf16 and self.device == "cpu"
            ):
                res = self._model(**tensors)
            s = res.start_logits.float().cpu().numpy()
            e = res.end_logits.float().cpu().numpy()
            for j, i in enumerate(idx):
                out[i] = (s[j], e[j])
        return out  # type: ignore[return-value]

    def predict(self, questions: Sequence[str], contexts: Sequence[str]) -> list[ContextPrediction]:
        """Decode the best spans for each (question, context) pair."""
        if not contexts:
            return []
        st = self.settings
        windows = encode_windows(self.tokenizer, questions, contexts, st.max_length, st.stride)
        logits = self.logits(windows)
        per_ctx: list[list[SpanCandidate]] = [[] for _ in contexts]
        for w, (s, e) in zip(windows, logits):
            per_ctx[w.context_index].extend(
                decode_window(w, s, e, st.max_answer_tokens, self.spans_per_context)
            )
        preds = []
        for cands in per_ctx:
            merged: dict[tuple[int, int], SpanCandidate] = {}
            for c in cands:
                key = (c.start, c.end)
                if key not in merged or c.margin > merged[key].margin:
                    merged[key] = c
            ranked = sorted(merged.values(), key=lambda c: -c.margin)
            best = ranked[0].margin if ranked else float("-inf")
            preds.append(ContextPrediction(ranked[: self.spans_per_context], best))
        return preds

    def confidence(self, margin: float) -> float:
        return self.settings.calibration.confidence(margin)


def load_tokenizer(model: str | Path):
    """Just the tokenizer (for sizing passages) without loading the weights."""
    from transformers import AutoTokenizer

    key = (str(model), "tokenizer")
    with _MODEL_LOCK:
        if key not in _MODEL_CACHE:
            _MODEL_CACHE[key] = (AutoTokenizer.from_pretrained(str(model)), None)
        return _MODEL_CACHE[key][0]
