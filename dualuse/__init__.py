"""dualuse: screen trade descriptions for dual-use machine tools, microelectronics and optics.

It flags candidates for human review. It never clears an item and gives no legal advice:
a family is what an item *is*, not whether a licence is needed.

>>> import dualuse
>>> dualuse.classify("5-axis CNC vertical machining center").category
'machine_tools'
"""

from ._version import __version__
from .api import classify, classify_batch, default_engine, set_default_engine
from .categories import CATEGORIES, FAMILIES
from .engine import Engine, FusionConfig
from .errors import (
    ColumnNotFoundError,
    DualuseError,
    EmptyTextError,
    InputFileError,
    InputTypeError,
    InvalidHSCodeError,
    ModelCompatibilityError,
    ModelIntegrityError,
    OptionError,
    OutputWriteError,
    TaxonomyError,
)
from .results import Classification
from .taxonomy import Taxonomy, default_taxonomy, load_taxonomy

__all__ = [
    "__version__",
    "classify",
    "classify_batch",
    "default_engine",
    "set_default_engine",
    "CATEGORIES",
    "FAMILIES",
    "Engine",
    "FusionConfig",
    "Classification",
    "Taxonomy",
    "load_taxonomy",
    "default_taxonomy",
    "DualuseError",
    "EmptyTextError",
    "InputTypeError",
    "InvalidHSCodeError",
    "ModelIntegrityError",
    "ModelCompatibilityError",
    "ColumnNotFoundError",
    "OptionError",
    "TaxonomyError",
    "InputFileError",
    "OutputWriteError",
]


def __getattr__(name: str):  # lazy: batch scoring pulls in pandas only when used
    if name in ("score_frame",):
        from .batch import score_frame

        return score_frame
    if name in ("evaluate",):
        from .evaluate import evaluate

        return evaluate
    raise AttributeError(f"module 'dualuse' has no attribute {name!r}")
