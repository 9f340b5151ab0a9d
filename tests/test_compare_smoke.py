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


@pytest.mark.slow
@pytest.mark.timeout(900)  # the benchmark script itself allows 600 s
def test_quick_run_keywords_only_writes_results(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--contenders",
            "dualuse_keywords",
            "--out-dir",
            str(tmp_path),
            "--throughput-rows",
            "500",
            "--latency-calls",
            "10",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
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


def test_render_rewrites_the_report_from_the_json_alone(tmp_path):
    """--render redoes the presentation only: same JSON in, same markdown out, nothing run."""
    rep = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    src = tmp_path / "run"
    src.mkdir()
    (src / "results.json").write_text(json.dumps(rep))
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--render", str(src / "results.json"), "--out-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    md = (out / "results.md").read_text()
    assert md == _module().render_markdown(rep)
    assert not (out / "results.json").exists()  # the figures stay where they were
    default = rep["contenders"]["dualuse_default"]["sets"]["us_hts_2024"]["macro_f1"]
    assert f"{default:.3f}" in md
    assert (out / "accuracy_vs_throughput.png").stat().st_size > 0


def test_verdict_shows_four_decimals_where_three_would_hide_the_difference():
    rep = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    verdicts = rep["acceptance"]["best_macro_f1_per_eval_set"]
    name_a, name_b = list(verdicts)[:2]
    verdicts[name_a].update(dualuse_default=0.33171, best_other_macro_f1=0.33229, best=False)
    verdicts[name_b].update(dualuse_default=0.5, best_other_macro_f1=0.4661, best=True)
    md = _module().render_markdown(rep)
    assert f"best macro-F1 on {name_a}: **no** (dualuse default 0.3317, best other" in md
    assert md.count("0.3323") >= 1
    assert f"best macro-F1 on {name_b}: **yes** (dualuse default 0.500, best other" in md
