"""HTTP API latency and throughput: p50/p95 and requests/s at 1, 4 and 8 concurrent clients.

The bundled article is indexed into a temporary folder and ``newsdesk serve``
is started on 127.0.0.1 (a free port) as its own process, once with the
micro-batcher on (``--batch 8``) and once with it off (``--batch 1``), so
the table shows what batching buys. Each level sends ``--requests`` POST
/v1/ask requests (the seed gold questions, cycled) from that many client
threads, each with its own keep-alive connection; a level stops early after
``--max-seconds``. The server is stopped by its process id when done.

    python benchmarks/bench_http.py --clients 1 4 8 --requests 120
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common


def questions() -> list[str]:
    return [json.loads(line)["question"] for line in common.SEED_GOLD.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def cpu_line() -> str:
    """CPU model and the vector flags that decide what the models cost (read from /proc/cpuinfo)."""
    model, flags = "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    wanted = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8")
    return f"CPU: {model} x{os.cpu_count()}; flags: {' '.join(f for f in wanted if f in flags) or 'none of note'}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui.cli", *args]


class Server:
    """``newsdesk serve`` as a child process, stopped by its PID on exit."""

    def __init__(self, index: Path, *, batch: int, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = log.open("w")
        self.proc = subprocess.Popen(cli("serve", "--index", str(index), "--port", str(self.port), "--batch",
                                         str(batch)),
                                     cwd=common.ROOT, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 600) -> float:
        import httpx

        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with status {self.proc.returncode}")
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=5).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise SystemExit("the server did not become healthy in time")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def engine_calls(base: str) -> dict[str, int]:
    import httpx

    return httpx.get(f"{base}/v1/stats", timeout=60).json()["server"]["engine_calls_by_batch_size"]


def load(base: str, qs: list[str], *, clients: int, requests: int, max_seconds: float) -> dict:
    """``requests`` POST /v1/ask from ``clients`` threads; latencies of the successful ones."""
    import httpx

    next_i = iter(range(requests))
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + max_seconds

    def client() -> None:
        with httpx.Client(base_url=base, timeout=300) as http:
            while time.perf_counter() < deadline:
                with lock:
                    i = next(next_i, None)
                if i is None:
                    return
                t = time.perf_counter()
                try:
                    r = http.post("/v1/ask", json={"question": qs[i % len(qs)]})
                    ok = r.status_code == 200
                except httpx.HTTPError as exc:
                    ok, r = False, exc
                took = time.perf_counter() - t
                with lock:
                    if ok:
                        latencies.append(took)
                    else:
                        errors.append(str(getattr(r, "status_code", r)))

    before = engine_calls(base)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    after = engine_calls(base)
    calls = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    n_calls = sum(calls.values())
    return {
        "clients": clients, "requests": len(latencies) + len(errors), "ok": len(latencies), "errors": len(errors),
        "error_samples": errors[:5], "seconds": wall, "requests_per_s": len(latencies) / wall if wall else None,
        "p50_ms": 1000 * common.pct(latencies, 50) if latencies else None,
        "p95_ms": 1000 * common.pct(latencies, 95) if latencies else None,
        "mean_batch": sum(int(k) * v for k, v in calls.items()) / n_calls if n_calls else None,
        "stopped_early": len(latencies) + len(errors) < requests,
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8])
    p.add_argument("--requests", type=int, default=120, help="requests per concurrency level")
    p.add_argument("--batch", type=int, nargs="+", default=[8, 1], help="server --batch settings to compare")
    p.add_argument("--warmup", type=int, default=8, help="requests sent before timing each server")
    p.add_argument("--max-seconds", type=float, default=300, help="a level stops after this long")
    args = p.parse_args()
    missing = [m for m in ("fastapi", "uvicorn", "httpx") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"skipping bench_http.py: {', '.join(missing)} not installed (pip install 'newsdesk[server]' httpx)")
        return 0
    print(cpu_line(), flush=True)
    load_before = os.getloadavg()
    qs = questions()
    runs = []
    with tempfile.TemporaryDirectory(prefix="newsdesk-http-") as tmp:
        index = Path(tmp) / "index"
        subprocess.run(cli("index", str(common.SEEDS), "--index", str(index)), cwd=common.ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for batch in args.batch:
            with Server(index, batch=batch, log=Path(tmp) / f"serve-{batch}.log") as srv:
                ready_s = srv.wait_healthy()
                load(srv.base, qs, clients=min(4, max(args.clients)), requests=args.warmup, max_seconds=120)
                for clients in args.clients:
                    row = {"batch": batch, "ready_s": ready_s,
                           **load(srv.base, qs, clients=clients, requests=args.requests,
                                  max_seconds=args.max_seconds)}
                    runs.append(row)
                    print(f"batch {batch}  {clients} clients  {row['ok']}/{row['requests']} ok  "
                          f"p50 {row['p50_ms'] or 0:.0f} ms  p95 {row['p95_ms'] or 0:.0f} ms  "
                          f"{row['requests_per_s'] or 0:.2f} req/s  mean batch {row['mean_batch'] or 0:.2f}",
                          flush=True)
    common.table("POST /v1/ask on 127.0.0.1 (bundled article)",
                 ["server --batch", "clients", "requests", "errors", "p50 ms", "p95 ms", "requests/s", "mean batch"],
                 [(r["batch"], r["clients"], r["requests"], r["errors"], r["p50_ms"], r["p95_ms"],
                   r["requests_per_s"], r["mean_batch"]) for r in runs])
    print(f"wrote {common.save('bench_http', {'runs': runs, 'cpu': cpu_line(), 'load_average_before': load_before, 'load_average_after': os.getloadavg()})}")
    return 1 if any(r["errors"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
