"""Deterministic generator of realistic trade-record rows for benchmarks.

    python benchmarks/generate_records.py 1000000 -o /tmp/records_1m.csv [--seed 7] [--no-broken] [--distinct]

Rows look like customs / invoice lines: a record id, a free-text description, an HS code, an
origin country, a quantity and a unit value. The mix: about a third of the lines are in one of
the three families (machine tools, microelectronics with part numbers, optics), the rest
ordinary goods; some lines are in Russian or Chinese; noise (order codes, packing words,
quantities) is sprinkled in. Problems appear at fixed small rates: empty or whitespace
descriptions, empty and invalid HS codes, a stray quote, and (unless ``--no-broken``) lines
with a wrong number of fields, so the output of ``dualuse score`` carries every status.

With ``--distinct`` every non-blank description differs from every other, as in an item
master or a year of invoice lines from many suppliers: each line carries the variation real
lines carry (a variant suffix on the model or part number, a pack quantity, a lot or order
reference, a size), drawn at random and redrawn when the line was already written; without
it, most descriptions repeat (the templates are few), which a memo of repeated descriptions
turns into a flattering throughput figure.

Record ids are ``TR0000001``... in file order, so a scored output can be checked for order.
The same seed and row count always give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

MACHINE_TOOLS = [
    "{axes}-axis CNC vertical machining center {model}",
    "CNC turning center with live tooling, {model}",
    "horizontal boring mill, numerically controlled, table {size} mm",
    "wire EDM machine {model} with automatic wire threading",
    "CNC surface grinding machine, accuracy 0.002 mm",
    "used CNC lathe {model}, Fanuc 0i-TF control",
    "5-axis gantry milling machine for aerospace parts",
    "coordinate measuring machine CMM {model}",
    "spindle for CNC milling machine, 24000 rpm",
    "Станок токарный с ЧПУ {model}",
    "Обрабатывающий центр вертикальный {model}, 5 осей",
    "Фрезерный станок вертикальный 6Т12, б/у",
    "数控车床 {model}",
    "立式加工中心 {model} 五轴",
    "数控磨床 精密",
]
MICRO = [
    "FPGA {fpga} industrial grade, tray of {qty}",
    "microcontroller {mcu} LQFP-100",
    "integrated circuits {mcu}, reel",
    "DDR4 SDRAM memory chips {dram}",
    "RF transceiver IC {rf} QFN",
    "ADC analog-to-digital converter {adc}",
    "IGBT module 1200V 300A for inverters",
    "printed circuit assembly with {fpga}",
    "Микросхема {mcu}",
    "Интегральные микросхемы {dram}, катушка",
    "芯片 {mcu} 原装",
    "集成电路 {fpga}",
    "MOSFET transistor {mos} TO-220",
]
OPTICS = [
    "germanium infrared lens {size} mm f/1.0",
    "thermal imaging camera core 640x512, 12 um",
    "laser rangefinder module 1535 nm",
    "night vision monocular, gen 2+ image intensifier tube",
    "optical encoder {model}, 5000 ppr",
    "fiber laser source 1 kW for cutting",
    "objective lens for microscope 40x",
    "Тепловизионный модуль 384x288",
    "Объектив инфракрасный {size} мм",
    "红外热像仪 镜头 {size}mm",
    "光学镜片 锗窗口",
]
NONE = [
    "men's cotton T-shirt, size {sz}",
    "women's leather handbag, brown",
    "frozen shrimp, 10 kg carton",
    "potato chips, salted, 150 g",
    "plastic storage boxes with lids",
    "stainless steel kitchen sink",
    "office chair, mesh back, black",
    "LED desk lamp, USB",
    "children's toy car, battery operated",
    "ceramic floor tiles 60x60",
    "bicycle tyres 26 inch",
    "polarised sunglasses, unisex",
    "solar panels 450 W monocrystalline",
    "ASIC mining rig 95 TH/s",
    "spare parts for tractor, filters",
    "wooden dining table, oak",
    "футболка хлопковая мужская",
    "Шины автомобильные 205/55 R16",
    "男士棉质T恤",
    "陶瓷茶具 套装",
    "auto parts: brake pads",
    "knitted sweater, wool blend",
    "paper towels 12 rolls",
    "green tea 500 g",
]
HS = {
    "mt": ["8457.10", "8458.11", "8459.61", "8460.12", "8456.30", "9031.20", "8466.93", "84581100", "8457 10 10"],
    "mi": ["8542.31", "8542.32", "8542.33", "8542.39", "8541.29", "8541.10", "85423190"],
    "op": ["9002.11", "9001.90", "8525.89", "9013.80", "9005.80", "9013.20"],
    "none": [
        "6109.10",
        "4202.21",
        "0306.17",
        "2005.20",
        "3923.10",
        "7324.10",
        "9401.31",
        "9405.21",
        "9503.00",
        "6907.21",
        "4011.50",
        "9004.10",
        "8541.43",
        "8471.41",
        "8708.30",
        "4403.91",
        "6110.20",
        "4818.20",
        "0902.10",
        "8433.90",
    ],
}
INVALID_HS = ["84x5", "N/A", "12", "8458.11.00.00.99", "HS8542", "?", "TBD", "0"]
ORIGINS = ["CN", "TW", "DE", "JP", "KR", "US", "RU", "TR", "AE", "KZ", "IN", "VN", "HK", "IT", "CH"]
NOISE_BEFORE = ["", "", "", "NEW ", "Item 3: ", "PO#{po} ", "1 pc ", "SET: ", "sample, "]
NOISE_AFTER = [
    "",
    "",
    "",
    " (new)",
    ", {qty} pcs",
    " / packed in wooden case",
    " - HS per invoice",
    ", FOB Shanghai",
    " as per contract {po}",
    "; origin stated by shipper",
]


def _fill(rng: random.Random, template: str) -> str:
    return template.format(
        axes=rng.choice([3, 4, 5]),
        model=rng.choice(["VMC850", "DMU 50", "CK6150", "16K20F3", "HAAS VF-2", "MAZAK QT-200", "TPC-1000", "GF CUT 300"]),
        size=rng.choice([25, 50, 75, 100, 800, 1200]),
        fpga=rng.choice(["XC7K325T-2FFG900I", "XC7A100T-1CSG324C", "EP4CE10F17C8N", "10M50DAF484C7G"]),
        mcu=rng.choice(["STM32F407VGT6", "ATMEGA328P-AU", "TMS320F28335PGFA", "LPC1768FBD100"]),
        dram=rng.choice(["MT40A512M16LY-075", "K4A8G165WC-BCTD", "H5AN8G6NCJR"]),
        rf=rng.choice(["AD9361BBCZ", "CC1101RGPR", "SX1276IMLTRT"]),
        adc=rng.choice(["AD9680BCPZ-1000", "ADS1256IDBR", "LTC2378-20"]),
        mos=rng.choice(["IRF540N", "IRFZ44N", "STP55NF06"]),
        qty=rng.choice([10, 50, 100, 250, 1000]),
        sz=rng.choice(["S", "M", "L", "XL"]),
        po=rng.randint(10000, 99999),
    )


#: How a line varies between otherwise alike records (``--distinct``): what invoices and
#: item masters add to a product line.
VARIATIONS = [
    ", {qty} pcs",
    ", lot {lot}",
    ", P/N {base}-{rev}",
    " rev. {rev}",
    ", order {po}/{line}",
    ", {pack} per carton",
    ", item {line} of PO {po}",
    " ({size} mm)",
    ", S/N {serial}",
    ", batch {lot}",
]


def _variation(rng: random.Random) -> str:
    template = rng.choice(VARIATIONS)
    return template.format(
        qty=rng.randint(2, 20000),
        lot=f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.randint(100, 99999)}",
        base=rng.choice(["VMC850", "CK6150", "STM32F407", "XC7A100T", "GE-LENS", "TIC640", "HB-220", "KP-10"]),
        rev=f"{rng.choice('ABCDEFGH')}{rng.randint(0, 99):02d}",
        po=rng.randint(10000, 999999),
        line=rng.randint(1, 400),
        pack=rng.choice([6, 10, 12, 20, 24, 48, 50, 100, 200, 500]),
        size=rng.choice([3, 5, 8, 10, 12, 16, 20, 25, 30, 40, 50, 63, 80, 100, 125, 160, 200]),
        serial=rng.randint(10**6, 10**9),
    )


def _make_distinct(rng: random.Random, text: str, seen: set[str]) -> str:
    """``text`` with one or more variations appended until no earlier line equals it."""
    out = text
    while not out.strip() or out in seen:
        out = out + _variation(rng)
    seen.add(out)
    return out


def generate(n: int, seed: int = 7, broken: bool = True, distinct: bool = False):
    """Yield ``n`` records (lists of fields, or a raw line string for a deliberately broken one).

    ``distinct``: no two non-blank descriptions are equal (see the module docstring).
    """
    rng = random.Random(seed)
    seen: set[str] = set()
    families = [("mt", MACHINE_TOOLS), ("mi", MICRO), ("op", OPTICS)]
    for i in range(1, n + 1):
        rid = f"TR{i:07d}"
        r = rng.random()
        if broken and r < 0.0005:  # an unquoted comma in the description: wrong field count
            yield f"{rid},steel bolts, nuts and washers,7318.15,CN,{rng.randint(1, 500)},0.12"
            continue
        r = rng.random()
        if r < 0.33:
            key, templates = families[rng.randrange(3)]
        else:
            key, templates = "none", NONE
        text = _fill(rng, rng.choice(NOISE_BEFORE)) + _fill(rng, rng.choice(templates)) + _fill(rng, rng.choice(NOISE_AFTER))
        r = rng.random()
        if r < 0.008:
            text = ""
        elif r < 0.01:
            text = "   "
        elif r < 0.012:
            text = text.replace(" ", '" ', 1)  # a stray inch mark / quote
        if distinct and text.strip():
            text = _make_distinct(rng, text, seen)
        r = rng.random()
        if r < 0.2:
            hs = ""
        elif r < 0.23:
            hs = rng.choice(INVALID_HS)
        elif r < 0.26:  # a code that disagrees with the text
            hs = rng.choice(HS[rng.choice(list(HS))])
        else:
            hs = rng.choice(HS[key])
        yield [rid, text, hs, rng.choice(ORIGINS), str(rng.randint(1, 500)), f"{rng.uniform(0.05, 90000):.2f}"]


HEADER = ["record_id", "description", "hs_code", "origin", "quantity", "unit_value"]


def write_csv(path: Path, n: int, seed: int = 7, broken: bool = True, distinct: bool = False) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        for rec in generate(n, seed, broken, distinct):
            if isinstance(rec, str):
                fh.write(rec + "\n")
            else:
                writer.writerow(rec)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("rows", type=int)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-broken", action="store_true", help="no lines with a wrong number of fields")
    p.add_argument("--distinct", action="store_true", help="no two non-blank descriptions alike (see above)")
    args = p.parse_args(argv)
    write_csv(Path(args.output), args.rows, args.seed, not args.no_broken, args.distinct)
    print(f"wrote {args.rows:,} records to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
