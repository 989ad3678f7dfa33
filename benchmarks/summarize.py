"""Print the Markdown tables of benchmarks/README.md from benchmarks/results/*.json.

    python benchmarks/summarize.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name: str) -> dict | None:
    p = RESULTS / f"{name}.json"
    return json.loads(p.read_text()) if p.is_file() else None


def _f(x, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, (int, float)):
        return f"{x:,.{digits}f}"
    return str(x)


def _cpu(r: dict) -> str:
    m = r.get("machine", {})
    return f"{m.get('cpu', '?')}, flags {' '.join(m.get('cpu_flags', [])) or '?'}"


def main() -> int:
    out: list[str] = []
    r = _load("bench_reader")
    if r:
        out += [f"### Reader: one question, {r['results'][0]['passages']} passages of 256 tokens",
                "", f"`python benchmarks/bench_reader.py` ({r['when']})", "",
                "| dtype | median ms | p95 ms |", "| --- | ---: | ---: |"]
        out += [f"| {x['dtype']} | {_f(x['median_ms'])} | {_f(x['p95_ms'])} |" for x in r["results"]]
        out += ["", f"bf16 vs fp32: {r['bf16_speedup']:.2f}x (native bf16 on this CPU: "
                    f"{r['native_bf16']}; {_cpu(r)}).", ""]
    r = _load("bench_index")
    if r:
        out += ["### Indexing (Assistant.index end to end)", "", f"`python {r['command']}` ({r['when']})", "",
                "| passages | runs | median s | passages/s | peak RSS MB |", "| ---: | ---: | ---: | ---: | ---: |"]
        for x in r["results"]:
            if "skipped" in x:
                out.append(f"| {x['target_passages']:,} | – | not run: {x['skipped']} | – | – |")
            else:
                out.append(f"| {x['passages']:,} | {len(x['seconds'])} | {_f(x['median_s'], 2)} | "
                           f"{_f(x['passages_per_s'])} | {_f(x['peak_rss_mb'], 0)} |")
        out.append("")
    r = _load("bench_ask")
    if r:
        out += ["### ask() latency by index size (ms; seed questions, SQuAD train distractors)", "",
                f"`python {r['command']}` ({r['when']}; medians of {r['runs']} passes)", "",
                "| passages | FAISS | retrieve p50 | retrieve p95 | read p50 | read p95 | total p50 | total p95 "
                "| RSS MB | seed F1 |",
                "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for x in r["results"]:
            lat = x["latency_ms"]
            out.append(f"| {x['passages']:,} | {x['faiss']} | {_f(lat['retrieve']['p50'])} | "
                       f"{_f(lat['retrieve']['p95'])} | {_f(lat['read']['p50'])} | {_f(lat['read']['p95'])} | "
                       f"{_f(lat['total']['p50'])} | {_f(lat['total']['p95'])} | {_f(x['rss_loaded_mb'], 0)} | "
                       f"{_f(x['seed_f1'])} |")
        out.append("")
    r = _load("bench_open_squad")
    if r:
        n_read = r["results"][0]["questions_read"] if r["results"] else 0
        out += [f"### Open-domain SQuAD dev ({r['paragraphs']:,} paragraphs, {r['passages']:,} passages)", "",
                f"`python {r['command']}` ({r['when']}); recall on {r['results'][0]['questions_recall']:,} "
                f"questions, EM/F1 on the first {n_read:,} of them, top-{r['top_k']}, "
                f"threshold {r['threshold']}", "",
                "| retrieval | R@1 | R@5 | R@20 | MRR | EM | F1 | answer % | passages read |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for x in r["results"]:
            out.append(f"| {x['mode']} | {_f(x['recall@1'])} | {_f(x['recall@5'])} | {_f(x['recall@20'])} | "
                       f"{_f(x['mrr'], 3)} | {_f(x['exact_match'])} | {_f(x['f1'])} | {_f(x['answer_rate'])} | "
                       f"{_f(x.get('passages_read_per_question'), 2)} |")
        m = r.get("reader_mode") or {}
        out += [f"| reader mode (gold paragraph) | | | | | {_f(m.get('exact_match'))} | {_f(m.get('f1'))} | "
                f"{_f(m.get('answer_rate'))} | |", ""]
    for name in ("bench_haystack", "bench_haystack_seed"):
        r = _load(name)
        if not r:
            continue
        corpus = "SQuAD dev questions" if r.get("corpus", "squad") == "squad" else "bundled-article questions"
        out += [f"### Newsdesk vs Haystack ({r['questions']} {corpus}, {r['passages']:,} passages)", "",
                f"`python {r['command']}` ({r['when']}; medians of {r['runs']} passes, interleaved; "
                f"haystack-ai {r['versions']['haystack-ai']}, transformers-haystack "
                f"{r['versions']['transformers-haystack']}; {_cpu(r)})", "",
                "| system | p50 ms | p95 ms | Haystack p50 / this p50 | EM (always answer) | F1 (always answer) "
                "| F1 (own no-answer rule) |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        base = r["systems"]["haystack"]["p50_ms"]
        for k, x in r["systems"].items():
            out.append(f"| {k} | {_f(x['p50_ms'])} | {_f(x['p95_ms'])} | {base / x['p50_ms']:.2f}x | "
                       f"{_f(x['em_always'])} | {_f(x['f1_always'])} | {_f(x['f1'])} |")
        out.append("")
    r = _load("bench_load")
    if r:
        out += [f"### Load: ask_many over {r['questions']:,} questions (bundled article)", "",
                f"`python {r['command']}` ({r['when']}; RSS sampled every 250 questions after "
                f"{r['warmup']} of warm-up)", "",
                "| questions/s | RSS after warm-up MB | RSS end MB | peak RSS MB | growth MB per 1k q | "
                "growth MB per 1k q, second half |",
                "| ---: | ---: | ---: | ---: | ---: | ---: |",
                f"| {_f(r['questions_per_s'])} | {_f(r['rss_after_warmup_mb'], 0)} | {_f(r['rss_end_mb'], 0)} | "
                f"{_f(r['rss_peak_mb'], 0)} | {_f(r['rss_growth_mb_per_1000_questions'])} | "
                f"{_f(r.get('rss_growth_mb_per_1000_questions_second_half'))} |", ""]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
