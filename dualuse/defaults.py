"""What the library uses when the caller names nothing: the default taxonomy and engine.

Three kinds of process need an engine they did not build themselves: the caller's own (the
packaged taxonomy with the embedded model, built on first use), a worker of a
``dualuse score --jobs N`` process pool (which receives or rebuilds it once), and a Dask
worker (which builds it once per factory). All three caches live here, so there is one
place that decides what "the default" is and when it is built.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import threading
from collections.abc import Callable

from .engine import Engine
from .errors import InputTypeError, describe
from .hs_index import HSIndex
from .model import FittedModel
from .taxonomy import default_taxonomy

__all__ = [
    "default_taxonomy",
    "default_model",
    "default_engine",
    "set_default_engine",
    "is_default_engine",
    "keyword_engine",
    "cached_engine",
]

log = logging.getLogger("dualuse.defaults")
_LOCK = threading.RLock()  # re-entrant: a cached factory may be default_engine itself
_DEFAULT_ENGINE: Engine | None = None
_CACHED: dict[str, Engine] = {}


def default_model() -> FittedModel:
    """The embedded default model, verified against its manifest before it is read."""
    from .persistence import load_model, packaged_model_dir

    return load_model(packaged_model_dir())


def default_engine() -> Engine:
    """The packaged taxonomy with the embedded default model, built once per process."""
    global _DEFAULT_ENGINE
    engine = _DEFAULT_ENGINE
    if engine is None:
        with _LOCK:  # threads racing on first use load the model once
            if _DEFAULT_ENGINE is None:
                model = default_model()
                # the packaged HS-6 index belongs to the packaged model (its manifest says so; the
                # arrays are read on first use)
                index: HSIndex | None = HSIndex()
                if not index.fits(model.sha256):  # type: ignore[union-attr]
                    log.warning(
                        "the packaged HS-6 index was built for another model: no HS suggestions; run `dualuse hs-index build`"
                    )
                    index = None
                _DEFAULT_ENGINE = Engine(default_taxonomy(), model, hs_index=index)
            engine = _DEFAULT_ENGINE
    return engine


def set_default_engine(engine: Engine | None) -> None:
    """Replace the engine used when none is passed (``None`` restores the packaged default)."""
    global _DEFAULT_ENGINE
    if engine is not None and not isinstance(engine, Engine):
        raise InputTypeError(f"engine: expected a dualuse.Engine or None, got {describe(engine)}")
    with _LOCK:
        _DEFAULT_ENGINE = engine


def is_default_engine(engine: Engine) -> bool:
    """Whether ``engine`` is this process's default engine, whatever its reviewed decisions.

    A worker can then rebuild it instead of receiving it (and attach the decisions itself).
    """
    base = _DEFAULT_ENGINE
    if engine is base:
        return True
    return base is not None and engine.model is base.model and engine.taxonomy is base.taxonomy and engine.fusion == base.fusion


def keyword_engine() -> Engine:
    """A model-free engine (packaged taxonomy, keyword and HS evidence only).

    Useful as an ``engine_factory`` for smoke tests and clusters without the model files.
    """
    return Engine(default_taxonomy(), model=None)


def factory_key(factory: Callable[[], Engine]) -> str:
    """A stable key for an engine factory: its qualified name, or the hash of its pickled value."""
    module = getattr(factory, "__module__", None)
    qualname = getattr(factory, "__qualname__", None)
    if module and qualname and "<" not in qualname:
        return f"{module}:{qualname}"
    try:  # partials, callable objects: key by their pickled value
        import cloudpickle

        blob = cloudpickle.dumps(factory)
    except Exception:
        blob = pickle.dumps(factory)
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def cached_engine(factory: Callable[[], Engine], key: str | None = None) -> Engine:
    """The engine built by ``factory`` in this process (built on first use, then reused)."""
    key = key or factory_key(factory)
    engine = _CACHED.get(key)
    if engine is None:
        with _LOCK:  # worker threads racing on the first partition build it once
            engine = _CACHED.get(key)
            if engine is None:
                engine = factory()
                if not isinstance(engine, Engine):
                    raise InputTypeError(f"engine_factory: expected it to return a dualuse.Engine, got {describe(engine)}")
                _CACHED[key] = engine
    return engine
