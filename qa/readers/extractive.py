"""The extractive reader: an AutoModelForQuestionAnswering and its decoding.

The model is loaded lazily (``warm_up``) and once per process per path, so an
Assistant, the evaluator and the TUI share one copy. Spans are decoded by
``qa.readers.spans``; this module adds batching, the numeric precision
(chosen by measurement in ``qa.precision``) and the calibration stored beside
the model.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.int8 import weight_form
from qa.precision import Choice, Precision, Source, Trial, best_ms, convert, parse, probe_pairs, resolve
from qa.quiet import quiet_third_party
from qa.readers.spans import SpanCandidate, decode_window, encode_windows, pad_windows
from qa.resources import reader_path

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

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
    #: "int8" to always read in int8 (an older way to force it; ``auto`` now measures instead).
    quantize: str | None = None
    #: F1 points int8 lost against float32 on held-out questions, per int8 form
    #: (``qa.int8.weight_form``), measured at export or with ``python -m qa.training int8``;
    #: ``auto`` never picks int8 when the loss of the form this machine runs is over 0.5 or unknown.
    int8_f1_loss: dict[str, float] = field(default_factory=dict)
    calibration: Calibration = field(default_factory=Calibration)
    #: When reading may stop early ({"first": passages, "confidence": bar}), chosen for this
    #: reader's calibration on held-out articles (``qa.training.stop_rule``); None: the default rule.
    early_stop: dict | None = None

    @classmethod
    def load(cls, model_dir: Path) -> ReaderSettings:
        p = Path(model_dir) / READER_SETTINGS
        if not p.is_file():
            return cls()
        raw = json.loads(p.read_text(encoding="utf-8"))
        cal = Calibration(**raw.pop("calibration", {}))
        if not isinstance(raw.get("int8_f1_loss"), dict):
            raw.pop("int8_f1_loss", None)  # one number: measured with an earlier int8 export
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
    """True when the CPU has native bf16 instructions (AVX512-BF16 or AMX).

    Only a hint of what is worth timing: whether bf16 pays off is measured
    (``qa.precision``), since native support alone did not predict it.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


#: The most F1 an automatic choice of int8 may cost on held-out questions.
MAX_INT8_F1_LOSS = 0.5


def int8_allowed(settings: ReaderSettings, form: str | None = None) -> bool:
    """int8 may be chosen by ``auto`` only with a measured loss of at most MAX_INT8_F1_LOSS
    for the int8 form this machine runs (``form``: that one by default)."""
    loss = settings.int8_f1_loss.get(form or weight_form())
    return loss is not None and loss <= MAX_INT8_F1_LOSS


def int8_refusal(settings: ReaderSettings, form: str | None = None) -> str:
    form = form or weight_form()
    loss = settings.int8_f1_loss.get(form)
    if loss is None:
        return f"int8 ({form}) accuracy not measured for this reader (python -m qa.training int8 --write)"
    return f"int8 ({form}) loses {loss:.2f} F1 on held-out questions (over {MAX_INT8_F1_LOSS})"


#: Confidence may differ this much from float32's on a probe question before a precision disagrees.
PROBE_CONFIDENCE_TOLERANCE = 0.05


def _load_fp32(model: str, device: str):
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    quiet_third_party()
    tok = AutoTokenizer.from_pretrained(model)
    mdl = AutoModelForQuestionAnswering.from_pretrained(model, use_safetensors=True, dtype="float32")
    mdl.to(device).eval()
    return tok, mdl


def load_model(
    model: str | Path, device: str = "cpu", precision: Precision | str | None = None, quantize: str | None = None
):
    """Load (tokenizer, model) once per process per precision; safetensors only, no remote code.

    The float32 weights are loaded and then converted: bf16 casts the weights
    (faster than autocast, which re-casts them on every call), int8 applies
    dynamic quantization to the linear layers (CPU only). ``quantize="int8"``
    is the older spelling of ``precision="int8"``.
    """
    p = Precision.INT8 if quantize == "int8" else (parse(precision) or Precision.FP32)
    if p is Precision.AUTO or (p is Precision.INT8 and device != "cpu"):
        p = Precision.FP32
    key = (str(model), f"{device}:{p.value}")
    base_key = (str(model), f"{device}:fp32")
    with _MODEL_LOCK:
        if key not in _MODEL_CACHE:
            base = _MODEL_CACHE.get(base_key) or _load_fp32(str(model), device)
            _MODEL_CACHE[key] = base if p is Precision.FP32 else (base[0], convert(base[1], p))
        return _MODEL_CACHE[key]


def _drop_cached(model: str, device: str, precision: Precision) -> None:
    with _MODEL_LOCK:
        _MODEL_CACHE.pop((model, f"{device}:{precision.value}"), None)


def _initial_precision(precision, bf16: bool | None, quantize: str | None) -> Precision:
    """The precision asked for, from the current argument or the older ``bf16``/``quantize`` ones."""
    p = parse(precision)
    if p is not None:
        return p
    if bf16 is not None:
        return Precision.BF16 if bf16 else Precision.FP32
    return Precision.INT8 if quantize == "int8" else Precision.FP32


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
        precision: Precision | str | None = None,
    ) -> None:
        """``precision`` is fp32 unless given; ``auto`` measures (see ``qa.precision``)."""
        self.model_name = str(reader_path(model))
        self.device = device
        self.batch_size = batch_size
        self.spans_per_context = spans_per_context
        local = Path(self.model_name)
        self.settings = settings or (ReaderSettings.load(local) if local.is_dir() else ReaderSettings())
        self.requested_precision = _initial_precision(precision, bf16, quantize or self.settings.quantize)
        #: The precision in use and why; set when the model loads.
        self.precision_choice: Choice | None = None
        self._tokenizer: PreTrainedTokenizerBase | None = None
        self._model: PreTrainedModel | None = None

    @classmethod
    def from_loaded(
        cls, tokenizer, model, settings: ReaderSettings, bf16: bool | None = None, **kwargs
    ) -> ExtractiveReader:
        """Wrap a tokenizer and model already in memory (training, tests, the precision probe).

        A float32 model asked to run in bf16 runs under autocast.
        """
        reader = cls(model="<in-memory>", settings=settings, bf16=bf16, **kwargs)
        reader._tokenizer, reader._model = tokenizer, model
        reader.precision_choice = Choice(
            role="reader", precision=reader.requested_precision, source=Source.FORCED, reason="model given in memory"
        )
        return reader

    @property
    def precision(self) -> Precision:
        """The precision in use (what was asked for until the model loads)."""
        return self.precision_choice.precision if self.precision_choice else self.requested_precision

    @property
    def bf16(self) -> bool:
        return self.precision is Precision.BF16

    # -- loading ------------------------------------------------------------
    def warm_up(self) -> None:
        """Choose the precision (measured once per machine under ``auto``) and load the model."""
        if self._model is not None:
            return
        choice = self.resolve_precision()
        self._tokenizer, self._model = load_model(self.model_name, self.device, choice.precision)
        if choice.source is Source.MEASURED and choice.precision is not Precision.FP32:
            _drop_cached(self.model_name, self.device, Precision.FP32)  # the probe's reference copy

    def resolve_precision(self) -> Choice:
        if self.precision_choice is None:
            if self.device != "cpu" and self.requested_precision is Precision.AUTO:
                self.precision_choice = Choice(
                    role="reader", precision=Precision.FP32, source=Source.FORCED, reason="not a CPU"
                )
            else:
                self.precision_choice = resolve(
                    "reader",
                    self.model_name,
                    self.requested_precision,
                    self._probe,
                    libraries=("transformers", "onnxruntime"),
                    settings={"int8_f1_loss": self.settings.int8_f1_loss},
                )
        return self.precision_choice

    def _probe(self, candidates: list[Precision]) -> list[Trial]:
        """Compare each precision's answers with float32's on the probe set; time those that agree.

        The comparison call also warms each model up; a precision that
        disagrees is not timed (it cannot be chosen), which keeps the probe short.
        """
        tok, base = load_model(self.model_name, self.device, Precision.FP32)
        skipped = {}
        if Precision.INT8 in candidates and not int8_allowed(self.settings):
            candidates = [p for p in candidates if p is not Precision.INT8]
            skipped[Precision.INT8] = int8_refusal(self.settings)
        questions, contexts = (list(x) for x in zip(*probe_pairs()))
        windows = encode_windows(tok, questions, contexts, self.settings.max_length, self.settings.stride)
        ref = self.from_loaded(tok, base, self.settings, precision=Precision.FP32).predict(questions, contexts)
        readers, notes = {}, {}
        for p in candidates:
            r = self.from_loaded(tok, convert(base, p), self.settings, precision=p, batch_size=len(windows))
            agrees, notes[p] = self._agrees(ref, r.predict(questions, contexts))
            if agrees:
                readers[p] = r
        ms = best_ms({p: partial(r.logits, windows) for p, r in readers.items()})
        trials = [Trial(precision=p, ms=ms.get(p), agrees=p in readers, note=notes[p]) for p in candidates]
        return trials + [Trial(precision=p, ms=None, agrees=False, note=why) for p, why in skipped.items()]

    def _agrees(self, ref: list[ContextPrediction], got: list[ContextPrediction]) -> tuple[bool, str]:
        """Same best span, same answer/no-answer decision, confidence within the tolerance."""
        t = self.settings.no_answer_threshold
        for i, (a, b) in enumerate(zip(ref, got)):
            sa = (a.candidates[0].start, a.candidates[0].end) if a.candidates else None
            sb = (b.candidates[0].start, b.candidates[0].end) if b.candidates else None
            ca, cb = self.confidence(a.best_margin), self.confidence(b.best_margin)
            if sa != sb:
                return False, f"probe {i}: another span"
            if (ca >= t) != (cb >= t) or abs(ca - cb) > PROBE_CONFIDENCE_TOLERANCE:
                return False, f"probe {i}: confidence {cb:.2f} vs {ca:.2f}"
        return True, ""

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

        tokenizer, model = self._loaded()
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(windows)
        pad_id = tokenizer.pad_token_id or 0
        autocast = self._needs_autocast(model)
        for lo in range(0, len(order), self.batch_size):
            idx = order[lo : lo + self.batch_size]
            batch = pad_windows([windows[i] for i in idx], pad_id)
            tensors = {k: torch.from_numpy(v).to(self.device) for k, v in batch.items()}
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                res = model(**tensors)
            s = res.start_logits.float().cpu().numpy()
            e = res.end_logits.float().cpu().numpy()
            for j, i in enumerate(idx):
                out[i] = (s[j], e[j])
        return out  # type: ignore[return-value]

    def _loaded(self) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
        """The tokenizer and model, loaded if they are not yet."""
        self.warm_up()
        if self._tokenizer is None or self._model is None:
            raise RuntimeError(f"reader {self.model_name!r} has no tokenizer or no model")
        return self._tokenizer, self._model

    def _needs_autocast(self, model: PreTrainedModel) -> bool:
        """bf16 asked for but the weights are float32 (a model handed in): cast on the fly."""
        if self.precision is not Precision.BF16 or self.device != "cpu":
            return False
        import torch

        emb = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
        return emb is not None and emb.weight.dtype == torch.float32

    def predict(self, questions: Sequence[str], contexts: Sequence[str]) -> list[ContextPrediction]:
        """Decode the best spans for each (question, context) pair."""
        if not contexts:
            return []
        st = self.settings
        windows = encode_windows(self.tokenizer, questions, contexts, st.max_length, st.stride)
        logits = self.logits(windows)
        per_ctx: list[list[SpanCandidate]] = [[] for _ in contexts]
        for w, (s, e) in zip(windows, logits):
            per_ctx[w.context_index].extend(decode_window(w, s, e, st.max_answer_tokens, self.spans_per_context))
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
