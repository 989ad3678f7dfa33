"""``python -m qa.training train|campaign|export|decision|stop-rule|int8``: train the reader and ship it."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.training")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="fine-tune a reader (resumes from the last checkpoint)")
    t.add_argument("--config", default="qa/training/configs/reader-minilm.json")
    t.add_argument("--output-dir")
    t.add_argument("--limit", type=int)
    t.add_argument("--max-steps", type=int)
    t.add_argument("--threads", type=int, default=0)
    c = sub.add_parser("campaign", help="long training run in the background (nice, nohup; resumes by default)")
    c.add_argument("--config", default="qa/training/configs/reader-minilm-v2.json")
    c.add_argument("--foreground", action="store_true", help="train in this process instead of starting one")
    c.add_argument("--max-steps", type=int)
    c.add_argument("--output-dir")
    c.add_argument("--device", choices=("cpu", "cuda"), help="train on this device (default: the config's, cpu)")
    e = sub.add_parser("export", help="calibrate a checkpoint and write it as a shipped model")
    e.add_argument("--config", default="qa/training/configs/reader-minilm.json")
    e.add_argument("--checkpoint", help="default: <output_dir>/checkpoint-last")
    e.add_argument("--out", default="models/reader")
    e.add_argument(
        "--calibration-size",
        type=int,
        default=2000,
        help="held-out answerable questions (and as many no-answer pairs, half other-article, "
        "half own paragraph minus answer) to calibrate on",
    )
    e.add_argument("--skip-int8", action="store_true", help="do not measure what int8 costs (then auto never picks it)")
    e.add_argument("--dev", help="SQuAD v1.1 dev JSON, scored once for the model card (never used to choose)")
    d = sub.add_parser("decision", help="fit the no-answer decision of an exported reader on held-out pairs")
    d.add_argument(
        "--config",
        default="qa/training/configs/reader-minilm-v2.json",
        help="the config whose held-out split and SQuAD 2.0 files are used",
    )
    d.add_argument("--reader", default="models/reader")
    d.add_argument("--answerable", type=int, default=600)
    d.add_argument("--per-kind", type=int, default=150)
    d.add_argument("--pairs", help="JSONL of read pairs: written, or reused when it exists")
    s = sub.add_parser("stop-rule", help="choose when reading may stop early, on held-out articles")
    s.add_argument("--config", default="qa/training/configs/reader-minilm-v2.json")
    s.add_argument("--reader", default="models/reader")
    s.add_argument("--answerable", type=int, default=600)
    s.add_argument("--per-kind", type=int, default=100, help="unanswerables of each open-mode kind")
    s.add_argument("--tolerance", type=float, default=0.5, help="points of F1 and of declined unanswerables")
    s.add_argument("--write", action="store_true", help="ship the chosen rule in the reader's settings")
    s.add_argument("--report", help="write the whole comparison here as JSON")
    s.add_argument("--reads", help="JSONL of the reader's predictions: written, or reused when it exists")
    q = sub.add_parser("int8", help="measure what int8 costs a reader on held-out questions")
    q.add_argument("--config", default="qa/training/configs/reader-minilm-v2.json")
    q.add_argument("--reader", default="models/reader")
    q.add_argument("--questions", type=int, default=2000)
    q.add_argument("--write", action="store_true", help="record the loss in the reader's settings")
    args = parser.parse_args(argv)

    if getattr(args, "threads", 0):
        import torch

        torch.set_num_threads(args.threads)
    from qa.training.train import TrainConfig

    if args.command == "train":
        from qa.training.train import train

        cfg = TrainConfig.load(args.config, output_dir=args.output_dir, limit=args.limit, max_steps=args.max_steps)
        path = train(cfg)
        print(f"checkpoint: {path}")
        return 0
    if args.command == "campaign":
        return _campaign(args)
    if args.command == "stop-rule":
        return _stop_rule(args, TrainConfig.load(args.config))
    if args.command == "int8":
        import json

        from qa.training.int8_check import check_reader

        report = check_reader(TrainConfig.load(args.config), args.reader, n_questions=args.questions, write=args.write)
        print(json.dumps(report, indent=2))
        return 0
    if args.command == "decision":
        import json

        from qa.training.export_decision import refit_shipped

        report = refit_shipped(
            TrainConfig.load(args.config),
            args.reader,
            n_answerable=args.answerable,
            n_per_kind=args.per_kind,
            pairs_file=args.pairs,
        )
        print(json.dumps(report["chosen"], indent=2))
        return 0
    from qa.training.export import export

    cfg = TrainConfig.load(args.config)
    export(
        cfg,
        args.checkpoint,
        args.out,
        args.dev,
        args.calibration_size,
        try_int8=not args.skip_int8,
        config_path=args.config,
    )
    return 0


def _stop_rule(args, cfg) -> int:
    import json
    from pathlib import Path

    from qa.training.stop_rule import tune_stop_rule

    report = tune_stop_rule(
        cfg,
        args.reader,
        n_answerable=args.answerable,
        n_per_kind=args.per_kind,
        tolerance=args.tolerance,
        reads=args.reads,
        write=args.write,
    )
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("first  bar    F1     declined(unans)  declined(ans)  passages read")
    for r in [report["full_reading"], *report["rules"]]:
        bar = "full" if r["confidence"] is None else f"{r['confidence']:.2f}"
        print(
            f"{r['first']:>5}  {bar:>5}  {r['f1']:5.1f}  {r['declined_unanswerable']:15.1f}"
            f"  {r['declined_answerable']:13.1f}  {r['passages_read']:13.2f}"
        )
    print("chosen:", json.dumps(report["chosen"]))
    return 0


def _campaign(args) -> int:
    from pathlib import Path

    from qa.training.train import TrainConfig

    cfg = TrainConfig.load(args.config, output_dir=args.output_dir, max_steps=args.max_steps, device=args.device)
    if args.foreground:
        from qa.training.campaign import run_campaign

        print(f"checkpoint: {run_campaign(cfg)}")
        return 0
    from qa.training.launch import start_background

    extra = [
        f"--{k.replace('_', '-')}={v}"
        for k, v in (("max_steps", args.max_steps), ("output_dir", args.output_dir), ("device", args.device))
        if v is not None
    ]
    pid = start_background(args.config, Path(cfg.output_dir), extra)
    print(
        f"campaign started: PID {pid}, log {Path(cfg.output_dir) / 'train.log'}, "
        f"JSONL {Path(cfg.output_dir) / 'log.jsonl'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
