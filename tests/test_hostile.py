"""Hostile inputs: huge and invisible texts, backtracking bait, unsafe patterns, tampered artefacts.

Completing is not the only assertion: each hostile-input test checks what comes out (result,
status, category, the matches expected or their absence), and carries its own
``@pytest.mark.timeout`` well above its normal run time, so a call that backtracks
catastrophically fails that test instead of hanging the suite. Artefact tests complement tests/test_persistence.py
(changed byte, truncation, forged manifest, versions, os.system pickle) and
tests/test_taxonomy.py (broken files, size limit, unbounded repeats); tests/test_linear_regex.py
(the linear-time pattern engine).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import FIXTURES

import dualuse
from dualuse import persistence
from dualuse.api import classify
from dualuse.batch import score_frame
from dualuse.errors import EmptyTextError, ModelIntegrityError, TaxonomyError
from dualuse.matcher import KeywordMatcher
from dualuse.normalize import normalize
from dualuse.results import NoteEvidence
from dualuse.taxonomy import MAX_TAXONOMY_BYTES, check_pattern_is_safe, load_taxonomy
from dualuse.training import legacy_pickle as legacy

# ---------------------------------------------------------------------------- huge input


@pytest.mark.timeout(120)
@pytest.mark.parametrize("engine_name", ["mini_engine", "small_engine"])
def test_ten_megabyte_input_is_truncated_and_says_so(request, engine_name) -> None:
    engine = request.getfixturevalue(engine_name)
    max_chars = engine.fusion.max_chars
    text = "CNC lathe; " + "x" * (10 * 1024 * 1024) + " FPGA"
    r = classify(text, engine=engine)
    assert r.input_truncated is True
    assert "input_truncated" in r.review_reasons and r.needs_review
    notes = [e for e in r.evidence if isinstance(e, NoteEvidence)]
    assert [n.code for n in notes] == ["input_truncated"]
    assert f"first {max_chars} of {len(text)} characters" in notes[0].message
    assert r.text == text  # the result keeps the description as given
    spans = [(e.start, e.end) for e in r.matched_terms()]
    assert spans and all(end <= max_chars for _, end in spans)
    # documented limitation: what lies beyond max_chars is not screened
    assert "FPGA" not in {e.matched_text for e in r.matched_terms()}


@pytest.mark.timeout(120)
def test_ten_megabyte_row_in_score_frame(mini_engine) -> None:
    frame = pd.DataFrame({"text": ["lathe " + "y" * (10 * 1024 * 1024), "FPGA"]})
    out = score_frame(frame, "text", engine=mini_engine)
    assert out["status"].tolist() == ["ok", "ok"]
    assert out["category"].tolist() == ["machine_tools", "microelectronics"]
    assert bool(out["needs_review"].iloc[0])


def test_input_of_exactly_max_chars_is_not_truncated(mini_engine) -> None:
    n = mini_engine.fusion.max_chars
    r = classify("lathe" + " " * (n - 5), engine=mini_engine)
    assert not r.input_truncated and "input_truncated" not in r.review_reasons


# ---------------------------------------------------------------------------- invisible and mixed text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("\x00CNC\x00lathe\x00", [("CNC", "machine_tools"), ("lathe", "machine_tools")], id="nul-separated"),
        pytest.param("\x1bFPGA\x07", [("FPGA", "microelectronics")], id="escape-and-bell"),
        pytest.param("\u202eFPGA\u202c", [("FPGA", "microelectronics")], id="bidi-override-around"),
        pytest.param("\u2066lathe\u2069 for metal", [("lathe", "machine_tools")], id="bidi-isolate"),
        pytest.param("\ufeffmicrocontroller", [("microcontroller", "microelectronics")], id="bom-prefix"),
        pytest.param("la\u200b\u200c\u200dthe", [("la\u200b\u200c\u200dthe", "machine_tools")], id="zero-width-inside"),
        pytest.param(
            "станок\u00a0ЧПУ lathe 车床",
            [("станок", "machine_tools"), ("lathe", "machine_tools"), ("车床", "machine_tools")],
            id="mixed-scripts",
        ),
        pytest.param("ＦＰＧＡ芯片", [("ＦＰＧＡ", "microelectronics"), ("芯片", "microelectronics")], id="full-width-and-cjk"),
        pytest.param("\t\r\n\x0b\x0cCNC", [("CNC", "machine_tools")], id="whitespace-controls"),
        pytest.param("l\u0301a\u0308the", [("l\u0301a\u0308the", "machine_tools")], id="combining-marks"),
    ],
)
def test_control_invisible_and_mixed_script_text(mini_engine, text, expected) -> None:
    r = classify(text, engine=mini_engine)
    found = [(e.matched_text, e.family) for e in r.matched_terms()]
    assert found == expected
    for e in r.matched_terms():
        assert text[e.start : e.end] == e.matched_text


@pytest.mark.parametrize(
    "text",
    ["\x00", "\x00\x00\x00", "\u200b\u200c\u200d", "\u202e\u202c", "\ufeff", "\u00ad", " \t\n\x0b\x0c\r", "\u3000\u00a0"],
    ids=["nul", "nuls", "zero-width", "bidi", "bom", "soft-hyphen", "whitespace", "unicode-spaces"],
)
def test_only_invisible_or_control_characters_is_empty(mini_engine, text) -> None:
    with pytest.raises(EmptyTextError, match="text: expected a"):
        classify(text, engine=mini_engine)
    out = score_frame(pd.DataFrame({"text": [text, "lathe"]}), "text", engine=mini_engine)
    assert out["status"].tolist() == ["empty_text", "ok"]


# ---------------------------------------------------------------------------- backtracking bait


BAIT = {
    "a-run": "a" * 100_000,
    "cnc-dots": "c.n." * 50_000,
    "five-dash": "5-" * 100_000,
    "spaces": " " * 100_000,
    "dashes": "-" * 100_000,
    "dot-space": ". " * 50_000,
    "spelt-letters": "c n " * 50_000,
    "almost-term": "machining centr " * 10_000,
    "separator-soup": "5 -_/." * 30_000 + "axis",
    "leet-pairs": "a1" * 100_000,
    "leet-word-run": "m1cr0" * 40_000,
    "pattern-prefix": "stm32" * 40_000,
    "pattern-tail": "STM32F4" + "-/#+" * 50_000,
    "digits": "1" * 100_000,
    "cyrillic-run": "станок" * 30_000,
    "cjk-run": "车" * 100_000,
    "zero-width-run": "l" + "\u200b" * 100_000 + "athe",
    "combining-run": "a" + "\u0301" * 100_000,
}


#: What the mini taxonomy finds in each bait, as (term or pattern id, matched text) pairs.
#: A term glued into a longer run of letters or digits is not a word, so most runs match
#: nothing; a term at the end of a separator run matches once; a part-number match runs on
#: to the end of its token ([a-z0-9-/#+], dualuse/matcher.py), here the whole bait.
BAIT_EXPECTED: dict[str, list[tuple[str, str]]] = {name: [] for name in BAIT}
BAIT_EXPECTED["separator-soup"] = [("5-axis", "5 -_/.axis")]
BAIT_EXPECTED["pattern-tail"] = [("stm32", BAIT["pattern-tail"])]
BAIT_EXPECTED["zero-width-run"] = [("lathe", BAIT["zero-width-run"])]


@pytest.mark.timeout(60)  # each bait takes well under a second; backtracking would take hours
@pytest.mark.parametrize("name", list(BAIT))
def test_backtracking_bait_finishes_with_the_expected_matches(mini_taxonomy, name) -> None:
    text = BAIT[name]
    matcher = KeywordMatcher(mini_taxonomy)
    result = matcher.match(text)  # the matcher alone: no truncation protects it here
    assert [(m.term, m.matched_text) for m in result.matches] == BAIT_EXPECTED[name]
    for m in result.matches:
        assert text[m.start : m.end] == m.matched_text
    norm = normalize(text)
    assert norm.offsets is None or len(norm.offsets) == len(norm.text)
    assert len(norm.text) <= len(text) * 4  # folding expands a character into a few at most


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["five-dash", "leet-pairs", "separator-soup"])
def test_backtracking_bait_through_the_trained_engine(small_engine, name) -> None:
    r = classify(BAIT[name], engine=small_engine)
    assert r.input_truncated and r.needs_review and "input_truncated" in r.review_reasons
    assert r.category in ("machine_tools", "microelectronics", "optics", "none")
    # the only term in these baits ("axis" at the very end of separator-soup) lies beyond max_chars
    assert r.matched_terms() == []


# ---------------------------------------------------------------------------- unsafe taxonomy patterns


@pytest.mark.parametrize(
    "regex",
    [
        pytest.param("(a+)+b", id="nested-plus"),
        pytest.param("(?:a*)*b", id="nested-star-non-capturing"),
        pytest.param("((ab)*c)+", id="nested-deep"),
        pytest.param("(x|(a+))+", id="nested-in-branch"),
        pytest.param("(?P<n>a)(?P=n)", id="named-backreference"),
        pytest.param("(?<=a)b", id="lookbehind"),
        pytest.param("(?!a)b", id="negative-lookahead"),
        pytest.param("(a)?(?(1)b|c)", id="conditional"),
        pytest.param("(?>a+)b", id="atomic-group"),
        pytest.param("a{25,}", id="large-unbounded-minimum"),
        pytest.param("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)", id="too-many-groups"),
        pytest.param("(unclosed", id="invalid"),
    ],
)
def test_more_unsafe_patterns_refused(regex: str) -> None:
    with pytest.raises(ValueError):
        check_pattern_is_safe(regex)


@pytest.mark.parametrize("regex", ["(a|aa)+b", "(?:a|ab)*c", "\\w+\\w+\\w+x", "[a-z]+[a-z]+[a-z]+x"])
def test_overlapping_repeats_refused(regex: str) -> None:
    with pytest.raises(ValueError):
        check_pattern_is_safe(regex)


def test_ambiguous_set_pattern_is_a_taxonomy_error(tmp_path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TaxonomyError):
            load_taxonomy(_taxonomy_with_pattern(tmp_path, "[[a]x"))


def _taxonomy_with_pattern(tmp_path: Path, regex: str) -> Path:
    path = tmp_path / "evil.toml"
    path.write_text(
        'schema_version = 1\nname = "evil"\nversion = "1.0.0"\n[[subcategory]]\nid = "a.one"\nfamily = "optics"\n'
        f'label = "x"\nterms.en = ["lens"]\npatterns = [{{ id = "p", regex = {json.dumps(regex)} }}]\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("regex", ["(a+)+$", "(\\d*)*x", "(ab|a)(?=c)"])
def test_unsafe_pattern_in_a_file_names_file_entry_and_problem(tmp_path, regex) -> None:
    with pytest.raises(
        TaxonomyError, match=r"evil\.toml: invalid taxonomy: \[\[subcategory\]\] #1 \(id 'a\.one'\) field patterns\.0\.regex"
    ):
        load_taxonomy(_taxonomy_with_pattern(tmp_path, regex))


# ---------------------------------------------------------------------------- taxonomy files


_MINIMAL_TAXONOMY = (
    'schema_version = 1\nname = "x"\nversion = "1.0.0"\n[[subcategory]]\nid = "a.one"\nfamily = "optics"\n'
    'label = "x"\nterms.en = ["lens"]\n'
)


def test_item17_a_taxonomy_file_with_a_utf8_bom_loads_as_without(tmp_path) -> None:
    plain, bom = tmp_path / "plain.toml", tmp_path / "bom.toml"
    plain.write_bytes(_MINIMAL_TAXONOMY.encode("utf-8"))
    bom.write_bytes(b"\xef\xbb\xbf" + _MINIMAL_TAXONOMY.encode("utf-8"))  # as Windows Notepad saves it
    with_bom = load_taxonomy(bom)
    assert with_bom.sha256 == load_taxonomy(plain).sha256
    assert [m.term for m in KeywordMatcher(with_bom).match("zoom lens").matches] == ["lens"]
    # a mark in the middle of the file is still a TOML error, not silently dropped
    bom.write_bytes(_MINIMAL_TAXONOMY.encode("utf-8").replace(b"[[subcategory]]", b"\xef\xbb\xbf[[subcategory]]"))
    with pytest.raises(TaxonomyError, match="not valid TOML"):
        load_taxonomy(bom)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "value",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="arrays"),
        pytest.param("{ a = " * 5_000 + "1" + " }" * 5_000, id="inline-tables"),
        pytest.param("[{ a = " * 3_000 + "1" + " }]" * 3_000, id="mixed"),
    ],
)
def test_item17_deep_nesting_in_a_taxonomy_is_a_taxonomy_error(tmp_path, value) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(_MINIMAL_TAXONOMY.replace('terms.en = ["lens"]', f"terms.en = {value}"), encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"deep\.toml: not a taxonomy: arrays or tables nested too deeply"):
        load_taxonomy(path)


def test_item17_deep_nesting_in_a_taxonomy_exits_3_without_a_traceback(tmp_path) -> None:
    import subprocess
    import sys

    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 200_000 + "]" * 200_000 + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "dualuse", "classify", "CNC lathe", "--taxonomy", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3
    assert "nested too deeply" in proc.stderr and "Traceback" not in proc.stderr


def test_taxonomy_is_data_python_code_is_not_run(tmp_path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "code.toml"
    path.write_text(f"import os\nos.system('touch {marker}')\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="not valid TOML"):
        load_taxonomy(path)
    path.write_text(
        'schema_version = 1\nname = "x"\nversion = "1.0.0"\ndescription = "__import__(\'os\').system(\'touch '
        f'{marker}\')"\n[[subcategory]]\nid = "a.one"\nfamily = "optics"\nlabel = "!!python/object:os.system"\n'
        'terms.en = ["lens"]\n',
        encoding="utf-8",
    )
    tax = load_taxonomy(path)  # strings stay strings
    assert tax.subcategory("a.one").label == "!!python/object:os.system"
    assert not marker.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param('terms.en = ["\\u200b"]', "empty after normalisation", id="invisible-term"),
        pytest.param('terms.en = ["' + "x" * 81 + '"]', "at most 80 characters", id="term-too-long"),
        pytest.param(
            'terms.en = ["lens"]\npatterns = [{ id = "p", regex = "' + "a" * 121 + '" }]',
            "at most 120 characters",
            id="pattern-too-long",
        ),
        pytest.param('terms.en = ["lens"]\nhs_prefixes = ["90; rm -rf"]', "hs_prefixes", id="bad-hs-prefix"),
    ],
)
def test_taxonomy_terms_and_fields_are_validated(tmp_path, body, message) -> None:
    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(_one_subcategory_taxonomy(tmp_path, body))


def test_duplicate_term_in_one_family_is_harmless(tmp_path) -> None:
    tax = load_taxonomy(_one_subcategory_taxonomy(tmp_path, 'terms.en = ["lens", "Lens"]\nweak_terms.en = ["LENS"]'))
    result = KeywordMatcher(tax).match("germanium lens")
    # one match, at its strongest weight, counted once
    assert [(m.matched_text, m.weight) for m in result.matches] == [("lens", 1.0)]
    assert result.family_scores["optics"] == 1.0


def _one_subcategory_taxonomy(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(
        f'schema_version = 1\nname = "t"\nversion = "1.0.0"\n[[subcategory]]\nid = "a.one"\nfamily = "optics"\nlabel = "x"\n{body}\n',
        encoding="utf-8",
    )
    return path


def test_conflicting_term_across_spellings_is_reported(tmp_path) -> None:
    # the same term in two families, written differently (full-width, homoglyph): still a conflict
    path = tmp_path / "t.toml"
    path.write_text(
        'schema_version = 1\nname = "t"\nversion = "1.0.0"\n'
        '[[subcategory]]\nid = "a.one"\nfamily = "optics"\nlabel = "x"\nterms.en = ["CNC"]\n'
        '[[subcategory]]\nid = "b.two"\nfamily = "machine_tools"\nlabel = "y"\nterms.en = ["ＣＮ\u0421"]\n',
        encoding="utf-8",
    )
    with pytest.raises(TaxonomyError, match=r"subcategory 'b\.two': term 'ＣＮС' conflicts with .*'a\.one' of family 'optics'"):
        load_taxonomy(path)


def test_taxonomy_not_utf8_refused(tmp_path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(
        (FIXTURES / "mini_taxonomy.toml").read_text(encoding="utf-8").replace("lathe", "läthe").encode("latin-1", "replace")
    )
    with pytest.raises(TaxonomyError, match="not UTF-8"):
        load_taxonomy(path)


def test_taxonomy_just_over_the_size_limit_refused(tmp_path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes((FIXTURES / "mini_taxonomy.toml").read_bytes() + b"#" * MAX_TAXONOMY_BYTES)
    with pytest.raises(TaxonomyError, match="the limit is"):
        load_taxonomy(path)


def test_taxonomy_path_that_is_a_directory(tmp_path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read taxonomy file"):
        load_taxonomy(tmp_path)


def test_taxonomy_size_limit_holds_on_the_bytes_read(tmp_path, monkeypatch) -> None:
    path = tmp_path / "grows.toml"
    path.write_bytes((FIXTURES / "mini_taxonomy.toml").read_bytes() + b"#" * MAX_TAXONOMY_BYTES)
    real_stat = Path.stat

    def small_stat(self, *args, **kwargs):  # the file "grows" after the size check
        st = real_stat(self, *args, **kwargs)
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, 10, *st[7:10]))

    monkeypatch.setattr(Path, "stat", small_stat)
    with pytest.raises(TaxonomyError, match="the limit is"):
        load_taxonomy(path)


# ---------------------------------------------------------------------------- model artefacts


@pytest.fixture
def pickle_copy(small_classifier, tmp_path):
    """A format-1 (pickle) directory: what the converter reads, through the guarded loader."""
    from dualuse.fusion import FusionConfig

    dst = tmp_path / "model"
    legacy.save_pickle_model(
        small_classifier,
        dst,
        model_id="small-test-model",
        fusion=FusionConfig(),
        corpus_sha256="0" * 64,
        taxonomy_sha256="0" * 64,
        taxonomy_version="0",
    )
    return dst


def _forge(model_dir: Path, payload: bytes) -> None:
    """Replace the pickle and rewrite the manifest so that size and hash match it."""
    (model_dir / "model.pkl").write_bytes(payload)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["model_sha256"] = hashlib.sha256(payload).hexdigest()
    manifest["model_size"] = len(payload)
    (model_dir / "manifest.json").write_text(json.dumps(manifest))


class _Reduce:
    def __init__(self, func, args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _evil_payloads(marker: Path) -> dict[str, bytes]:
    import builtins
    import subprocess

    code = f"open({str(marker)!r}, 'w').close()"
    return {
        "builtins.eval": pickle.dumps(_Reduce(builtins.eval, (code,)), protocol=5),
        "builtins.exec": pickle.dumps(_Reduce(builtins.exec, (code,)), protocol=2),
        "subprocess.Popen": pickle.dumps(_Reduce(subprocess.Popen, (["touch", str(marker)],)), protocol=5),
        "os.system": pickle.dumps(_Reduce(os.system, (f"touch {marker}",)), protocol=0),
        # a global on the allow-list's module but not on the list itself
        "numpy.load": pickle.dumps(_Reduce(__import__("numpy").load, (str(marker),)), protocol=5),
        # an allowed class wrapping a forbidden call in its state
        "nested": pickle.dumps([_Reduce(builtins.eval, (code,))], protocol=5),
    }


@pytest.mark.parametrize("name", ["builtins.eval", "builtins.exec", "subprocess.Popen", "os.system", "numpy.load", "nested"])
def test_code_running_pickle_refused_before_the_callable_runs(pickle_copy, tmp_path, name) -> None:
    marker = tmp_path / "pwned"
    _forge(pickle_copy, _evil_payloads(marker)[name])
    with pytest.raises(ModelIntegrityError, match="which is not on the allow-list; refused"):
        legacy.load_pickle_model(pickle_copy)
    assert not marker.exists()


def test_pickle_of_an_allowed_but_wrong_type_is_refused(pickle_copy) -> None:
    _forge(pickle_copy, pickle.dumps(object(), protocol=5))  # builtins.object is on the allow-list
    with pytest.raises(ModelIntegrityError, match="expected a dualuse TextClassifier, got object"):
        legacy.load_pickle_model(pickle_copy)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"{" + b" " * (legacy.MAX_MANIFEST_BYTES + 1) + b"}", "exceeds the 1000000-byte limit", id="oversized"),
        pytest.param(b"format_version = 1\n", "not valid UTF-8 JSON", id="toml-not-json"),
        pytest.param(b"\xff\xfe{\x00}\x00", "not valid UTF-8 JSON", id="utf16"),
        pytest.param(b'{"format_version": 1', "not valid UTF-8 JSON", id="truncated-json"),
        pytest.param(b"[1, 2, 3]", "expected a JSON object, got list", id="json-list"),
        pytest.param(b'"manifest"', "expected a JSON object, got str", id="json-string"),
        pytest.param(b"", "not valid UTF-8 JSON", id="empty"),
    ],
)
def test_bad_manifest_refused_before_unpickling(pickle_copy, monkeypatch, content, message) -> None:
    calls = []
    monkeypatch.setattr(legacy, "_unpickle", lambda payload: calls.append(1))
    (pickle_copy / "manifest.json").write_bytes(content)
    with pytest.raises(ModelIntegrityError) as info:
        legacy.load_pickle_model(pickle_copy)
    assert message in str(info.value)
    assert calls == []


@pytest.mark.timeout(60)
def test_deeply_nested_manifest_refused(pickle_copy) -> None:
    (pickle_copy / "manifest.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ModelIntegrityError, match="not valid UTF-8 JSON"):
        legacy.load_pickle_model(pickle_copy)


@pytest.mark.parametrize(
    "extra",
    [{"unknown": 1}, {"model_sha256": "../" * 21 + "a"}, {"fusion": {"max_chars": "x"}}],
    ids=["extra-field", "bad-hash", "bad-fusion"],
)
def test_manifest_fields_validated(pickle_copy, extra) -> None:
    manifest = json.loads((pickle_copy / "manifest.json").read_text())
    manifest.update(extra)
    (pickle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="model manifest .*: field"):
        legacy.load_pickle_model(pickle_copy)


def test_manifest_that_is_a_directory(pickle_copy) -> None:
    (pickle_copy / "manifest.json").unlink()
    (pickle_copy / "manifest.json").mkdir()
    with pytest.raises(ModelIntegrityError, match="cannot read it"):
        legacy.load_pickle_model(pickle_copy)


def test_model_file_name_absolute_path_refused(pickle_copy, tmp_path) -> None:
    outside = tmp_path / "outside.pkl"
    shutil.copy(pickle_copy / "model.pkl", outside)
    manifest = json.loads((pickle_copy / "manifest.json").read_text())
    manifest["model_file"] = str(outside)
    (pickle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="plain file name"):
        legacy.load_pickle_model(pickle_copy)


# ---------------------------------------------------------------------------- where models load from


def test_packaged_model_dir_is_inside_the_installed_package() -> None:
    package = Path(dualuse.__file__).resolve().parent
    assert persistence.packaged_model_dir().resolve() == package / "data" / "model"


@pytest.mark.parametrize(
    "var", ["DUALUSE_MODEL", "DUALUSE_MODEL_DIR", "DUALUSE_MODEL_PATH", "DUALUSE_HOME", "DUALUSE_DATA", "XDG_DATA_HOME", "HOME"]
)
def test_no_environment_variable_moves_the_default_model(monkeypatch, tmp_path, var) -> None:
    before = persistence.packaged_model_dir()
    monkeypatch.setenv(var, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert persistence.packaged_model_dir() == before
    seen = []
    monkeypatch.setattr(persistence, "load_model", lambda directory: seen.append(Path(directory)))
    from dualuse.defaults import default_model as load_default_model

    load_default_model()
    assert seen == [before]


def test_loading_code_reads_no_environment() -> None:
    import dualuse.api
    import dualuse.model

    for module in (persistence, dualuse.model, dualuse.api):
        source = Path(module.__file__).read_text(encoding="utf-8")
        assert "environ" not in source and "getenv" not in source, module.__name__
