"""Parsers of the Russian, Chinese and German nomenclatures, on small inline samples written
for these tests (codes and wording in the style of each source, not copied rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualuse.training.sources_intl import (
    INTL_TRAINING_SOURCES,
    label_tnved10_2017,
    label_tw_2017,
    read_cn8_2023_de,
    read_intl_sources,
    read_tnved10_2017_ru,
    read_tnved_hs6_ru,
    read_tw_tariff_zh,
)


def _write(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


@pytest.fixture()
def raw(tmp_path: Path) -> Path:
    _write(
        tmp_path / "eaeu-tnved-hs6-2022-ru" / "tnved_hs6_ru.csv",
        "code,text\n"
        '845811,"Станки токарные металлорежущие: горизонтальные: с числовым программным управлением"\n'
        '870130,"Тракторы:  тракторы\u00a0гусеничные"\n'
        '854141,"Приборы полупроводниковые: светоизлучающие диоды"\n'
        "901310,Прицелы телескопические для оружия\n",
    )
    _write(
        tmp_path / "eaeu-tnved10-2017-ru" / "tnved10_ru_ett2017.csv",
        "code,text\n"
        '8541401001,"Приборы полупроводниковые: светодиоды: прочие"\n'
        '8541409000,"Приборы полупроводниковые: фоточувствительные приборы: прочие"\n'
        '8541500000,"Приборы полупроводниковые прочие"\n'
        '8537101000,"Пульты: цифровые панели управления со встроенной вычислительной машиной"\n'
        '8537109900,"Пульты: устройства с числовым программным управлением"\n'
        '8525801900,"Камеры телевизионные: прочие"\n',
    )
    tw = tmp_path / "tw-customs-tariff-2020-zh"
    _write(
        tw / "tw_tariff10_zh_hant.csv",
        "code,text\n"
        "8458110000,數值控制臥式車床\n"
        "8541401100,光電二極體之晶粒\n"
        "8541402900,其他發光二極體\n"
        "8541403000,太陽電池\n"
        "8525801010,夜視攝影機\n"
        "8525801090,其他電視攝影機\n"
        "8537101000,機器用電子控制設備（包括數值、程式及其他控制設備）\n"
        "8528720000,彩色電視機\n",
    )
    _write(
        tw / "tw_tariff10_en.csv",
        "code,text\n"
        "8458110000,Numerically controlled horizontal lathes\n"
        "8541401100,Chips of photo-diodes\n"
        "8541402900,Other light emitting diodes\n"
        "8541403000,Solar cell\n"
        "8525801010,Night vision television cameras\n"
        "8525801090,Other television cameras\n"
        '8537101000,"Electronic control apparatus for machinery (including digital and programmed controllers)"\n'
        "8528720000,Colour television receivers\n",
    )
    _write(
        tmp_path / "eu-cn8-2023-de" / "eu_cn8_2023_de.csv",
        "code,text\n"
        "84571010,Horizontal-Maschinenzentren zum Bearbeiten von Metallen\n"
        '85371010,"Steuerungen, numerisch, mit eingebauter Datenverarbeitungsmaschine"\n'
        '85371091,"SPS-Steuerungen (ausg. numerische Steuerungen)"\n'
        '94016100,"Sitzmöbel, gepolstert"\n',
    )
    _write(
        tmp_path / "eu-cn8-selfexplanatory-2023-en" / "2023_en_intrastat_codes.csv",
        "code;description;unit_id\n"
        '84571010;"Horizontal machining centres for working metal";\n'
        '85371010;"Numerical control panels with built-in automatic data-processing machines";\n'
        '85371091;"Programmable memory controllers (excl. numerical control panels)";\n'
        '94016100;"Upholstered seats, with wooden frames";\n',
        encoding="cp1252",
    )
    return tmp_path


def _labels(rows) -> dict[str, str]:
    return {r.code: r.label for r in rows}


def test_russian_hs6(raw: Path) -> None:
    build = read_tnved_hs6_ru(raw)
    assert _labels(build.rows) == {"845811": "machine_tools", "870130": "none", "854141": "none", "901310": "optics"}
    assert build.rows[1].text == "Тракторы: тракторы гусеничные"  # NBSP and double space collapsed
    assert {r.source for r in build.rows} == {"eaeu-tnved-hs6-2022-ru"}
    assert not build.mixed


def test_russian_2017_bridges_and_national_lines(raw: Path) -> None:
    build = read_tnved10_2017_ru(raw)
    assert _labels(build.rows) == {
        "8541401001": "none",  # 8541 40 10: light-emitting diodes -> 8541.41
        "8541500000": "microelectronics",  # HS 2017 8541.50 -> 8541.59
        "8537101000": "none",  # "digital control panels" does not say numerical control
        "8537109900": "machine_tools",  # says it in Russian
        "8525801900": "none",
    }
    assert [(r.code, r.label) for r in build.mixed] == [("8541409000", "microelectronics+none")]
    assert [r.code for r in build.rows] == ["8541401001", "8541500000", "8537101000", "8537109900", "8525801900"]


def test_taiwan_labels_from_code_and_official_english(raw: Path) -> None:
    build = read_tw_tariff_zh(raw)
    assert _labels(build.rows) == {
        "8458110000": "machine_tools",
        "8541401100": "microelectronics",  # photodiodes -> 8541.49
        "8541402900": "none",  # LEDs -> 8541.41
        "8541403000": "none",  # solar cells -> 8541.42
        "8525801010": "optics",  # night vision -> 8525.83
        "8525801090": "none",
        "8537101000": "machine_tools",  # the Chinese text lists numerical control
        "8528720000": "none",
    }
    assert build.rows[0].text == "數值控制臥式車床"  # the official Traditional text, unconverted


def test_taiwan_files_must_align(raw: Path) -> None:
    en = raw / "tw-customs-tariff-2020-zh" / "tw_tariff10_en.csv"
    en.write_text(en.read_text(encoding="utf-8").replace("8528720000", "8528730000"), encoding="utf-8")
    with pytest.raises(ValueError, match="same codes"):
        read_tw_tariff_zh(raw)


def test_german_labelled_through_english_twin(raw: Path) -> None:
    build = read_cn8_2023_de(raw)
    assert _labels(build.rows) == {
        "84571010": "machine_tools",
        "85371010": "machine_tools",
        "85371091": "none",  # "numerical control" only inside the exclusion clause
        "94016100": "none",
    }
    assert build.rows[3].text == "Sitzmöbel, gepolstert"


def test_german_twin_mismatch_raises(raw: Path) -> None:
    de = raw / "eu-cn8-2023-de" / "eu_cn8_2023_de.csv"
    de.write_text(de.read_text(encoding="utf-8").replace("94016100", "94016900"), encoding="utf-8")
    with pytest.raises(ValueError, match="English twin"):
        read_cn8_2023_de(raw)


def test_all_sources_in_order_and_deterministic(raw: Path) -> None:
    first, second = read_intl_sources(raw), read_intl_sources(raw)
    assert first == second
    order = list(dict.fromkeys(r.source for r in first.rows))
    assert order == list(INTL_TRAINING_SOURCES)


@pytest.mark.parametrize(
    ("code", "zh", "en", "label"),
    [
        ("8541409000", "其他光敏半導體裝置", "Other photosensitive semiconductor devices", "microelectronics"),
        ("8541404000", "其他光伏打電池", "Other photovoltaic cells", "none"),
        ("8525802190", "數位相機", "Digital cameras", "none"),
        ("8537109000", "其他控電用器具", "Other apparatus for electric control", "none"),
        ("9013101000", "武器用望遠瞄準器", "Telescopic sights for arms", "optics"),
    ],
)
def test_label_tw_2017(code: str, zh: str, en: str, label: str) -> None:
    assert label_tw_2017(code, zh, en) == label


def test_label_tnved10_2017_mixed_is_none() -> None:
    assert label_tnved10_2017("8541409000", "прочие") is None
    assert label_tnved10_2017("8458110000", "станки") == "machine_tools"
