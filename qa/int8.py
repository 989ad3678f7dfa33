"""int8 through ONNX Runtime: a transformer exported once, fused, weights quantized per channel.

PyTorch's dynamic int8 cost the reader 1.1 to 4 F1 on held-out questions,
over the 0.5 an automatic choice may lose. Here the exported BERT graph is
first fused (attention, layer norms, GELU: ONNX Runtime's transformer
optimizer), then its products are quantized dynamically: weights scaled per
output channel, activations per call. Weights use all 8 bits where the CPU
has VNNI, and 7 bits elsewhere, where u8 x s8 products could saturate. The
two forms lose different amounts, so a reader records each one's loss
(``ReaderSettings.int8_f1_loss``, keyed by ``weight_form()``). So
``Precision.INT8`` means this when ``onnxruntime`` and ``onnx`` are
installed, and PyTorch's per-channel dynamic int8 otherwise.

Exporting and quantizing take seconds, so the quantized model is written
once per machine into the user data folder, named by a digest of the
weights and of the library versions (a retrained model or a new
onnxruntime gets a new file), and written atomically (a crash leaves no
half file that a later run would load).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

log = logging.getLogger("qa")

#: Bumped when the export or the quantization settings change.
EXPORT_VERSION = 2  # 2: fused attention, layer norms and GELU; 8-bit weights on VNNI CPUs
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Head(str, Enum):
    """What the exported graph returns."""

    SPANS = "spans"  # start and end logits of a question-answering model
    TOKENS = "tokens"  # last hidden state of an encoder


def available() -> bool:
    """Both the runtime and the exporter's format library are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


@dataclass(frozen=True, kw_only=True)
class SpanLogits:
    """The two outputs the reader uses, shaped like a transformers model's."""

    start_logits: Any
    end_logits: Any


class OnnxInt8Model:
    """Called like the PyTorch model it replaces (keyword tensors in, torch tensors out)."""

    def __init__(self, path: Path, head: Head, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle runtime threads would otherwise spin after each call and take the cores
        # PyTorch's reader needs right after the question is embedded.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path, self.head = path, head
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._wanted = [i.name for i in self.session.get_inputs()]

    def __call__(self, **tensors: Any) -> Any:
        import torch

        feed = {name: _numpy(tensors[name]) for name in self._wanted if name in tensors}
        if "token_type_ids" in self._wanted and "token_type_ids" not in feed:
            feed["token_type_ids"] = _numpy(torch.zeros_like(tensors["input_ids"]))
        outputs = [torch.from_numpy(o) for o in self.session.run(None, feed)]
        if self.head is Head.SPANS:
            return SpanLogits(start_logits=outputs[0], end_logits=outputs[1])
        return outputs[0]

    def get_input_embeddings(self) -> None:
        """No torch embeddings: the reader must not wrap this in bf16 autocast."""
        return None

    def eval(self) -> OnnxInt8Model:
        return self


def _numpy(t: Any):
    import numpy as np

    return t.detach().cpu().numpy().astype(np.int64, copy=False)


def quantized(
    model: Any,
    *,
    head: Head,
    threads: int | None = None,
    cache_dir: Path | None = None,
    full_range: bool | None = None,
) -> OnnxInt8Model:
    """The int8 ONNX Runtime form of a float32 transformers model (made once, then read from disk).

    ``full_range``: weights in all 8 bits instead of 7; by default where the CPU has VNNI,
    whose int8 products add into 32 bits and cannot saturate.
    """
    import torch

    threads = threads or torch.get_num_threads()
    full_range = vnni() if full_range is None else full_range
    folder = cache_dir or _cache_folder()
    path = folder / f"{head.value}-{_digest(model, head)}-{8 if full_range else 7}bit.onnx"
    if path.is_file():
        try:
            loaded = OnnxInt8Model(path, head, threads)
            _mark_used(path)
            return loaded
        except Exception as exc:  # a damaged file: onnxruntime raises its own error types
            log.warning("int8 model %s could not be read (%s); making it again", path, str(exc).splitlines()[0])
            path.unlink(missing_ok=True)
    try:
        _export_quantized(model, head, path, full_range=full_range)
        _forget_unused(folder, keep=path)
        return OnnxInt8Model(path, head, threads)
    except OSError as exc:  # a read-only or full data folder: make it for this process only
        log.warning("could not keep the int8 model in %s (%s); it is made again next time", folder, exc)
        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp) / path.name
            _export_quantized(model, head, scratch, full_range=full_range)
            return OnnxInt8Model(scratch, head, threads)  # the session holds the model in memory


#: An int8 file not opened for this long belongs to weights or libraries no longer in use.
UNUSED_DAYS = 30


def _mark_used(path: Path) -> None:
    """Opening a file counts as use (file systems mounted noatime do not record reads)."""
    try:
        os.utime(path)
    except OSError:
        pass  # a read-only data folder: the file is still used, only not marked


def _forget_unused(folder: Path, *, keep: Path) -> None:
    """Delete int8 files unopened for UNUSED_DAYS: each new reader, embedder or library
    version writes another 20-odd MB file, and nothing else would ever remove the old ones."""
    cutoff = time.time() - UNUSED_DAYS * 86400
    for old in folder.glob("*.onnx"):
        try:
            if old != keep and old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            continue  # removed by another process meanwhile, or not ours to remove


def _cache_folder() -> Path:
    from qa.resources import data_home

    return data_home() / "int8"


def _digest(model: Any, head: Head) -> str:
    """Weights, architecture and every library that shapes the file."""
    from importlib.metadata import version

    h = hashlib.sha256()
    for name in ("torch", "onnx", "onnxruntime", "transformers"):
        h.update(f"{name}={version(name)};".encode())
    h.update(f"{EXPORT_VERSION};{head.value};{type(model).__name__};".encode())
    for key, tensor in model.state_dict().items():
        h.update(key.encode())
        h.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:20]


def _graph(model: Any, head: Head) -> Any:
    """The model's forward with positional tensors in and a tuple out, as the exporter wants."""
    import torch

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return (out.start_logits, out.end_logits) if head is Head.SPANS else out.last_hidden_state

    return Graph().eval()


def weight_form(full_range: bool | None = None) -> str:
    """Which int8 form this process runs, the key its measured accuracy is recorded under.

    ``onnx-8bit`` on VNNI CPUs, ``onnx-7bit`` on others, ``torch`` without ONNX
    Runtime: the three lose different amounts of F1.
    """
    if not available():
        return "torch"
    full_range = vnni() if full_range is None else full_range
    return "onnx-8bit" if full_range else "onnx-7bit"


def vnni() -> bool:
    """The CPU multiplies int8 with VNNI: u8 x s8 products then add into 32 bits (no saturation)."""
    from qa.precision import cpu_info

    return bool(set(cpu_info()["flags"]) & {"avx512_vnni", "avx_vnni", "amx_int8"})


@contextmanager
def _eager_attention(model: Any) -> Iterator[None]:
    """Attention written as plain matrix products while exporting, a form the fusion recognises."""
    before = getattr(model.config, "_attn_implementation", None)
    setter = getattr(model, "set_attn_implementation", None)
    if setter is None or before in (None, "eager"):
        yield
        return
    setter("eager")
    try:
        yield
    finally:
        setter(before)


def _fuse(path: Path, config: Any) -> None:
    """Fuse a BERT graph's attention, layer norms and GELU in place (1.2x faster int8 embedding).

    Other architectures, or a graph the optimizer cannot match, stay as exported:
    the fused form changes speed, not results.
    """
    if getattr(config, "model_type", None) != "bert":
        return
    from onnxruntime.transformers.optimizer import optimize_model

    try:
        fused = optimize_model(
            str(path), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
        )
    except Exception as exc:  # the optimizer raises whatever its pattern matching hits
        log.info("int8 export: graph left unfused (%s)", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return
    fused.save_model_to_file(str(path))


def _export_quantized(model: Any, head: Head, path: Path, *, full_range: bool) -> None:
    import torch

    from qa.quiet import quiet_third_party

    quiet_third_party()
    path.parent.mkdir(parents=True, exist_ok=True)
    outputs = ["start_logits", "end_logits"] if head is Head.SPANS else ["last_hidden_state"]
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, *outputs)}
    ids = torch.full((2, 16), 1000, dtype=torch.long)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad(), _eager_attention(model):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _graph(model, head),
                (ids, torch.ones_like(ids), torch.zeros_like(ids)),
                str(fp32),
                input_names=list(INPUTS),
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
            logging.disable(logging.WARNING)  # its root-logger advice on pre-processing is for static int8
            try:
                _fuse(fp32, model.config)
                _quantize(fp32, int8, full_range=full_range)
            finally:
                logging.disable(logging.NOTSET)
        os.replace(int8, path)  # same folder: one atomic step
    log.info("int8 model written to %s", path)


def _quantize(fp32: Path, int8: Path, *, full_range: bool) -> None:
    """Products in int8; the embedding lookup and a span head stay in float.

    A lookup does no arithmetic to speed up, and the span head's two outputs
    are the logits themselves: kept in float, the reader lost 0.17 F1 always
    answering and 0.50 at its threshold on 2,000 held-out questions (8-bit
    weights), against 0.56 and 0.35 with both in int8.
    """
    import onnx
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    head = [n.name for n in graph.node if n.op_type in ("MatMul", "Gemm") and "qa_outputs" in n.name]
    quantize_dynamic(
        str(fp32),
        str(int8),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=not full_range,
        op_types_to_quantize=["MatMul", "Attention"],
        nodes_to_exclude=head,
        extra_options={"DefaultTensorType": TensorProto.FLOAT},
    )


def encoder_supported(model: Any) -> bool:
    """A SentenceTransformer this module can run: a transformer, mean pooling, maybe normalisation."""
    names = [type(m).__name__ for m in model]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    return model[1].get_config_dict().get("pooling_mode") == "mean"


class OnnxSentenceEncoder:
    """``encode`` of a mean-pooling SentenceTransformer, its transformer run in int8.

    Same tokenizer, same truncation, same pooling and normalisation as the
    model's own modules, so vectors differ from float32's only by the
    quantization of the transformer.
    """

    def __init__(self, model: Any, graph: OnnxInt8Model):
        self.tokenizer = model.tokenizer
        self.max_seq_length = model.max_seq_length
        self.normalize = len(model) == 3
        self._dimension = model.get_embedding_dimension()
        self.graph = graph

    def get_embedding_dimension(self) -> int:
        return self._dimension

    def encode(self, texts: list[str], batch_size: int = 32, **_: Any) -> Any:
        """Vectors of ``texts`` in their order as one float32 tensor (batched by length)."""
        import torch

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = torch.empty((len(texts), self._dimension), dtype=torch.float32)
        for lo in range(0, len(order), max(1, batch_size)):
            idx = order[lo : lo + batch_size]
            enc = self.tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=self.max_seq_length,
                return_tensors="pt",
            )
            tokens = self.graph(**enc)
            mask = enc["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if self.normalize:
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            out[idx] = pooled
        return out
