"""The four labels every description gets, in one fixed order used everywhere."""

from __future__ import annotations

from typing import Literal, get_args

Category = Literal["machine_tools", "microelectronics", "optics", "none"]
Family = Literal["machine_tools", "microelectronics", "optics"]

#: Column order of every probability matrix in the library.
CATEGORIES: tuple[Category, ...] = get_args(Category)
#: The three dual-use families (everything but ``none``).
FAMILIES: tuple[Family, ...] = get_args(Family)
CATEGORY_INDEX: dict[str, int] = {c: i for i, c in enumerate(CATEGORIES)}
NONE_INDEX = CATEGORY_INDEX["none"]
