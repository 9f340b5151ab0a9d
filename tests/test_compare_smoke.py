"""Smoke test of benchmarks/compare.py (skipped unless the ``bench`` extra is installed)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("sentence_transformers")

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "compare.py"


def _module():
    spec = importlib.util.spec_from_file_location("dualuse_bench_compare", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def test_stratified_subsample_keeps_families_and_is_seeded():
    import pandas as pd

    compare = _module()
    frame = pd.DataFrame(
        {
            "text": [f"t{i}" for i in range(1000)],
            "label": ["machine_tools"] * 30 + ["optics"] * 20 + ["none"] * 950,
            "source": ["a"] * 50 + ["a"] * 450 + ["synthetic:negative"] * 500,
        }
    )
    sub = compare.stratified_subsample(frame, 200, 7)
    assert len(sub) == 200
    assert (sub["label"] != "none").sum() == 50  # every family row fits in half the budget
    none_src = sub[sub["label"] == "none"]["source"].str.split(":").str[0].value_counts()
    assert abs(none_src["a"] / 450 - none_src["synthetic"] / 500) < 0.01  # one rate within each source
    assert sub.equals(compare.stratified_subsample(frame, 200, 7))
    assert list(sub.index) == sorted(sub.index)


def test_quick_run_keywords_only_writes_results(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--contenders", "dualuse_keywords", "--out-dir", str(tmp_path),
         "--throughput-rows", "500", "--latency-calls", "10"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rep = json.loads((tmp_path / "results.json").read_text())
    kw = rep["contenders"]["dualuse_keywords"]
    assert set(kw["sets"]) == {*rep["eval_sets"], "dev_invoice_lines"}
    assert kw["throughput"]["rows_measured"] == 500 and kw["latency_ms"]["calls"] == 10
    assert kw["vm_hwm_mib"] > 0
    md = (tmp_path / "results.md").read_text()
    assert "Quick run" in md and "dualuse keywords only" in md
    assert (tmp_path / "accuracy_vs_throughput.png").stat().st_size > 0
    assert str(ROOT) not in md  # no machine paths in the committed report
