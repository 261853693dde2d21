"""The search benchmark script still runs end to end (tiny sizes; the numbers are not checked here)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_search_runs(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            "scripts/bench_search.py",
            "--sizes",
            "100",
            "--build-size",
            "100",
            "--real-max",
            "50",
            "--requests",
            "10",
            "--seconds",
            "1",
            "--runs",
            "1",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "100 sections" in proc.stdout and "HTTP p50" in proc.stdout and "one-article incremental" in proc.stdout
    assert '"throughput_rps"' in out.read_text()
