"""``newsdesk serve``: its options, its defaults, and one line when the server extra is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tui.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_serve_binds_this_machine_only_by_default():
    args = build_parser().parse_args(["serve", "--index", "idx"])
    assert (args.host, args.port, args.api_key, args.batch) == ("127.0.0.1", 8000, None, 8)


def test_serve_options():
    args = build_parser().parse_args(["serve", "--index", "idx", "--host", "0.0.0.0", "--port", "9000",
                                      "--api-key", "k", "--batch", "1", "--top-k", "3"])
    assert (args.host, args.port, args.api_key, args.batch, args.top_k) == ("0.0.0.0", 9000, "k", 1, 3)


def run_cli(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_bad_port_and_batch_are_one_line():
    for argv in (["--port", "99999"], ["--port", "http"], ["--batch", "0"], ["--batch", "65"]):
        r = run_cli(f"import sys; from tui.cli import main; sys.exit(main(['serve', *{argv!r}]))")
        assert r.returncode == 2, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_serve_without_the_extra_names_the_install():
    for missing in ("uvicorn", "fastapi", "fastapi_offline"):
        code = (f"import sys; sys.modules[{missing!r}] = None; from tui.cli import main; "
                "sys.exit(main(['serve', '--index', 'nowhere']))")
        r = run_cli(code)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "pip install 'newsdesk[server]'" in lines[0], r.stderr


def test_serve_reads_the_api_key_from_the_environment_and_reports_a_missing_index(tmp_path, monkeypatch):
    import time

    import uvicorn
    from fastapi.testclient import TestClient

    from tui.cli import main

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    monkeypatch.setenv("NEWSDESK_API_KEY", "from-env")
    assert main(["serve", "--index", str(tmp_path / "no-index"), "--port", "8123"]) == 0
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    with TestClient(served["app"]) as client:
        deadline = time.monotonic() + 60
        while (health := client.get("/v1/health")).json()["status"] == "loading":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert health.status_code == 503 and "no index in" in health.json()["error"]["message"]
        assert client.get("/v1/stats").status_code == 401
        r = client.get("/v1/stats", headers={"Authorization": "Bearer from-env"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "startup_failed"
