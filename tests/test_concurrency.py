"""Thread safety: concurrent calls equal sequential ones; the default model loads once under a race."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import dualuse.defaults as defaults
from dualuse.api import classify, classify_batch, default_engine

TEXTS = [
    "5-axis CNC vertical machining centre VMC850",
    "Xilinx FPGA XC7K325T-2FFG900I, tray",
    "STM32F407VGT6 microcontroller",
    "Станок токарный с ЧПУ 16К20Ф3",
    "红外热像仪 镜头 germanium lens",
    "Men's cotton T-shirt",
    "potato chips, salted",
    "b1nocu1ars 10x42 with m1crocontroller",
    "ＦＰＧＡ development board",
    "thermal imager 640x512 LWIR core",
    "laser printer toner cartridge",
    "spare parts for lathe",
]


@pytest.mark.parametrize("engine_name", ["keyword_engine", "small_engine"])
def test_eight_threads_equal_sequential(request, engine_name) -> None:
    engine = request.getfixturevalue(engine_name)
    calls = [(TEXTS[i % len(TEXTS)], [None, "8458.11", "854231", "9005.10"][i % 4]) for i in range(240)]
    expected = [classify(t, hs_code=h, engine=engine) for t, h in calls]
    start = threading.Barrier(8)

    def run(chunk: list[tuple[str, str | None]]):
        start.wait()
        return [classify(t, hs_code=h, engine=engine) for t, h in chunk]

    chunks = [calls[i::8] for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, chunks))
    got = [None] * len(calls)
    for i, res in enumerate(results):
        got[i::8] = res
    assert got == expected


def test_threads_mixing_single_and_batch_calls(keyword_engine) -> None:
    expected = classify_batch(TEXTS, engine=keyword_engine)
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(classify_batch, TEXTS, engine=keyword_engine) for _ in range(20)]
        futures += [pool.submit(classify, TEXTS[i % len(TEXTS)], engine=keyword_engine) for i in range(120)]
    for f in futures[:20]:
        assert f.result() == expected
    for i, f in enumerate(futures[20:]):
        assert f.result() == expected[i % len(TEXTS)]


def test_default_model_loads_once_when_eight_threads_race(monkeypatch, small_model_dir) -> None:
    from dualuse.persistence import load_model

    model = load_model(small_model_dir)
    calls: list[int] = []

    def slow_load():
        calls.append(1)
        time.sleep(0.2)  # widen the race window
        return model

    monkeypatch.setattr(defaults, "default_model", slow_load)
    monkeypatch.setattr(defaults, "_DEFAULT_ENGINE", None)  # restored by monkeypatch afterwards
    start = threading.Barrier(8)

    def first_use(i: int):
        start.wait()
        return classify(TEXTS[i % len(TEXTS)]), default_engine()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(first_use, range(8)))
    assert calls == [1]
    engines = {id(e) for _, e in results}
    assert len(engines) == 1
    assert all(r.provenance.model_id == "small-test-model" for r, _ in results)
