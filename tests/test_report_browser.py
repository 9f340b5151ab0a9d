"""The review report in a real headless Chromium (the system's chromium and chromedriver, via Selenium).

The sample file is scored with ``--explain`` and reported through the CLI, as a reviewer
would; the expectations (which rows need review, what a span covers, which rows a filter
keeps) are computed from the scored file with pandas. Skipped only when the machine has no
Chromium (``apt-get install chromium chromium-driver``; .ci/run installs them).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dualuse.cli import EXIT_OK, EXIT_ROW_PROBLEMS, main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "trade_records.csv"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="needs Chromium and its driver from the system packages (apt-get install chromium chromium-driver)",
    ),
    pytest.mark.slow,
    pytest.mark.timeout(240),
]

# what this machine needs for a headless Chromium that touches no network and no profile of its own
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # the system driver, named: Selenium then neither looks for nor downloads one
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver, page: Path) -> list[dict]:
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(page.as_uri())
    return driver.get_log("browser")


def _rows(driver) -> list[int]:
    from selenium.webdriver.common.by import By

    return [int(td.text) for td in driver.find_elements(By.CSS_SELECTOR, "#review tbody tr td:first-child")]


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("browser")
    scored, page = tmp / "scored.csv", tmp / "report.html"
    code = main(["score", str(SAMPLE), "-o", str(scored), "--text-column", "description", "--hs-column", "hs_code", "--explain"])
    assert code in (EXIT_OK, EXIT_ROW_PROBLEMS)  # the sample has bad rows on purpose
    assert main(["report", str(scored), "-o", str(page)]) == EXIT_OK
    return page, pd.read_csv(scored, dtype=str, keep_default_na=False)


def _needs_review(df: pd.DataFrame) -> list[int]:
    """Row numbers (1-based) of the rows a reviewer must see: needs_review true or status not ok."""
    return [i + 1 for i in df.index[(df["needs_review"] == "true") | (df["status"] != "ok")]]


def test_the_report_opens_without_console_errors_and_lists_every_row_needing_review(browser, sample_report):
    from selenium.webdriver.common.by import By

    page, df = sample_report
    logs = _open(browser, page)
    assert [e for e in logs if e["level"] in ("SEVERE", "WARNING")] == []
    expected = _needs_review(df)
    assert 0 < len(expected) < len(df)
    assert _rows(browser) == expected  # one page holds them all at the default page size
    assert browser.find_element(By.ID, "match-count").text == str(len(expected))


def test_a_highlighted_span_is_the_description_text_at_that_span(browser, sample_report):
    from selenium.webdriver.common.by import By

    page, df = sample_report
    _open(browser, page)
    # a row with exactly one span: its mark must be exactly that span (no merging involved)
    for i in df.index:
        spans = [e for e in json.loads(df.at[i, "evidence"] or "[]") if e["kind"] in ("term", "pattern")]
        if len(spans) == 1 and i + 1 in _needs_review(df):
            break
    else:
        pytest.fail("the sample has no row needing review with exactly one matched span")
    span = spans[0]
    row = browser.find_element(By.XPATH, f"//table[@id='review']/tbody/tr[td[1][normalize-space()='{i + 1}']]")
    marks = row.find_elements(By.TAG_NAME, "mark")
    assert len(marks) == 1
    assert (int(marks[0].get_attribute("data-start")), int(marks[0].get_attribute("data-end"))) == (span["start"], span["end"])
    assert marks[0].get_attribute("textContent") == df.at[i, "description"][span["start"] : span["end"]]


def test_typing_in_the_filter_keeps_exactly_the_matching_rows(browser, sample_report):
    from selenium.webdriver.common.by import By

    page, df = sample_report
    _open(browser, page)
    word = "xilinx"
    review = df.loc[[n - 1 for n in _needs_review(df)]]
    # the word appears in descriptions only (not in a family, reason or reference), so the
    # expectation is the review rows whose description holds it
    others = review.drop(columns=["description", "evidence", "matched_terms"]).apply(lambda c: c.str.lower().str.contains(word))
    assert not others.to_numpy().any()
    expected = [i + 1 for i in review.index[review["description"].str.lower().str.contains(word)]]
    assert 0 < len(expected) < len(review)
    box = browser.find_element(By.ID, "filter")
    box.send_keys("XiLinx")
    assert _rows(browser) == expected
    assert browser.find_element(By.ID, "match-count").text == str(len(expected))
    box.clear()
    box.send_keys(" ")  # clear() sends no input event; a blank query shows every row again
    assert len(_rows(browser)) == len(review)


def test_sorting_and_paging(browser, sample_report):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    page, df = sample_report
    _open(browser, page)
    expected = _needs_review(df)
    header = browser.find_element(By.CSS_SELECTOR, "#review thead th:first-child")
    header.click()
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    Select(browser.find_element(By.ID, "pagesize")).select_by_value("50")
    assert _rows(browser) == sorted(expected, reverse=True)[:50]
    browser.find_element(By.ID, "next").click()
    assert _rows(browser) == sorted(expected, reverse=True)[50:100]


def test_injected_markup_in_a_description_does_not_run(browser, tmp_path):
    from selenium.webdriver.common.by import By

    hostile = [
        "<script>window.__pwned = 1</script> CNC lathe",
        '<img src=x onerror="window.__pwned = 2"> machining centre',
        '"><svg onload="window.__pwned = 3"> Xilinx FPGA',
        "</td></tr></table><script>window.__pwned = 4</script> wafer stepper",
        '<iframe srcdoc="<script>parent.__pwned = 5</script>"></iframe> germanium lens',
    ]
    src, scored, page = tmp_path / "h.csv", tmp_path / "h.jsonl", tmp_path / "h.html"
    pd.DataFrame({"description": hostile, "hs_code": ["8458.11"] * len(hostile)}).to_csv(src, index=False)
    main(["score", str(src), "-o", str(scored), "--text-column", "description", "--hs-column", "hs_code", "--explain"])
    assert main(["report", str(scored), "-o", str(page)]) == EXIT_OK
    logs = _open(browser, page)
    assert [e for e in logs if e["level"] in ("SEVERE", "WARNING")] == []
    assert browser.execute_script("return window.__pwned === undefined")
    shown = [td.get_attribute("textContent") for td in browser.find_elements(By.CSS_SELECTOR, "#review tbody tr td.text")]
    assert len(shown) == len(hostile)
    assert all(any(s.startswith(h) for s in shown) for h in hostile)
