"""dualuse: screen trade descriptions for dual-use machine tools, microelectronics and optics.

It flags candidates for human review. It never clears an item and gives no legal advice:
a family is what an item *is*, not whether a licence is needed.

>>> import dualuse
>>> dualuse.classify("5-axis CNC vertical machining center").category
'machine_tools'
"""

from ._version import __version__
from .api import classify, classify_batch
from .categories import CATEGORIES, FAMILIES
from .decisions import load_decisions
from .defaults import default_engine, set_default_engine
from .engine import Engine
from .errors import (
    ColumnNotFoundError,
    DecisionsError,
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
from .fusion import FusionConfig
from .results import Classification
from .taxonomy import Taxonomy, default_taxonomy, load_taxonomy

#: Attributes loaded on first use, so that ``import dualuse`` does not import pandas, Dask
#: or the training code: name -> module that defines it.
_LAZY = {
    "score_frame": "dualuse.batch",
    "score_file": "dualuse.files",
    "score_dask": "dualuse.dask",
    "evaluate": "dualuse.training.evaluate",
    "report": "dualuse.reporting",
}

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
    "DecisionsError",
    "load_decisions",
    *_LAZY,
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dualuse' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
