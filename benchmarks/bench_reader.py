"""Reader speed: one question over 5 passages of 256 tokens, in each precision.

This is the reading step of one ``ask`` (top-k 5, every passage read) in
isolation. Passages are SQuAD dev paragraphs cut so that question + passage
fill one 256-token window exactly. Whether bf16 or int8 pays off depends on
the CPU (native bf16, VNNI), which is why ``auto`` measures it
(``qa.precision``); this script shows the full-size numbers behind that.

    python benchmarks/bench_reader.py --repeats 30
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def fill_window(tokenizer, question: str, paragraphs: list[str], n: int, max_length: int) -> list[str]:
    """``n`` contexts, each cut to exactly fill one window after the question."""
    q_len = len(tokenizer(question, add_special_tokens=False)["input_ids"])
    budget = max_length - q_len - 3  # [CLS] q [SEP] c [SEP]
    out = []
    for text in paragraphs:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        if len(enc["input_ids"]) < budget:
            continue
        out.append(text[: enc["offset_mapping"][budget - 1][1]])
        if len(out) == n:
            break
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--passages", type=int, default=5)
    common.add_reader_arg(p)
    args = p.parse_args()
    import torch

    from qa.precision import Precision
    from qa.readers.extractive import ExtractiveReader, cpu_supports_bf16

    model = common.use_reader_arg(args)
    common.require(common.SQUAD_DEV, "SQuAD v1.1 dev")
    data = json.loads(common.SQUAD_DEV.read_text())
    paragraphs = [para["context"] for art in data["data"] for para in art["paragraphs"]]
    question = "What did the minister say about the agreement signed in the capital?"
    results, rows = [], []
    print(common.cpu_line())
    for precision in (Precision.FP32, Precision.BF16, Precision.INT8):
        reader = ExtractiveReader(model, precision=precision)
        contexts = fill_window(reader.tokenizer, question, paragraphs, args.passages, reader.settings.max_length)
        windows = sum(1 for _ in contexts)
        for _ in range(3):
            reader.predict([question] * len(contexts), contexts)
        ms = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            reader.predict([question] * len(contexts), contexts)
            ms.append(1000 * (time.perf_counter() - t0))
        r = {"dtype": precision.value, "passages": windows,
             "tokens_per_window": reader.settings.max_length, "median_ms": common.median(ms),
             "p95_ms": common.pct(ms, 95), "min_ms": min(ms), "repeats": args.repeats}
        results.append(r)
        rows.append((r["dtype"], windows, r["median_ms"], r["p95_ms"], r["min_ms"]))
    speedup = results[0]["median_ms"] / results[1]["median_ms"]
    int8_speedup = results[0]["median_ms"] / results[2]["median_ms"]
    common.table(f"Reader: 1 question x {args.passages} passages x 256 tokens ({torch.get_num_threads()} threads)",
                 ["dtype", "passages", "median ms", "p95 ms", "min ms"], rows)
    print(f"bf16 weights vs fp32: {speedup:.2f}x, int8: {int8_speedup:.2f}x "
          f"(native bf16 on this CPU: {cpu_supports_bf16()})")
    path = common.save("bench_reader", {"reader": model, "native_bf16": cpu_supports_bf16(),
                                        "bf16_speedup": speedup, "int8_speedup": int8_speedup,
                                        "results": results})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
