"""The notebooks in notebooks/ run from a clean kernel, and are committed clean.

Each notebook is executed with nbclient in a fresh ``python3`` kernel (ipykernel's, present
whenever ipykernel is installed in the environment, as ``pip install -e ".[dev]"`` does),
with the notebooks folder as working directory, like ``jupyter nbconvert --execute``. A cell
that raises fails the test and the message shows the cell. By default the notebooks use
small samples (about two minutes for all three); ``DUALUSE_NOTEBOOKS_FULL=1`` in the
environment makes them train and evaluate on the full data.

The committed files must carry no outputs (no stale figures, no paths of the machine that
last ran them), except the ones in ``COMMITTED_WITH_OUTPUTS``: those carry the outputs of one
clean run, small and without machine paths.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell

pytestmark = [
    # Depending on their versions, jupyter_core / jupyter_client / pyzmq warn at import or while
    # the kernel shuts down (platformdirs migration, sockets closed by the garbage collector,
    # the Windows event loop). Those are not dualuse's warnings; nothing else is filtered.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:jupyter_core.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:jupyter_client.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:zmq.*"),
    pytest.mark.filterwarnings("ignore::ResourceWarning:zmq.*"),
    pytest.mark.filterwarnings("ignore:Proactor event loop does not implement add_reader:RuntimeWarning"),
]

MACHINE_PATH = re.compile(r"(/home/|/Users/|/root/|/tmp/|/wor[k]/|[A-Za-z]:\\\\)")


def test_the_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_train_and_evaluate.ipynb",
        "03_custom_taxonomy.ipynb",
        "04_review_workflow.ipynb",
        "05_trade_context.ipynb",
        "06_decisions_and_extra_labels.ipynb",
    ]


#: Notebooks committed with their outputs, so that a reader sees a reviewer's walk-through
#: without running it: from one clean run top to bottom, no errors, and small.
COMMITTED_WITH_OUTPUTS = {"04_review_workflow.ipynb"}
MAX_COMMITTED_BYTES = 100_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    if path.name in COMMITTED_WITH_OUTPUTS:
        assert [c.get("execution_count") for c in code] == list(range(1, len(code) + 1)), f"{path.name}: not one clean run"
        assert not [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error" or o.get("name") == "stderr"]
        assert len(path.read_bytes()) < MAX_COMMITTED_BYTES, f"{path.name}: outputs too large to commit"
    else:
        for i, cell in enumerate(code):
            assert cell.get("outputs") == [], f"{path.name} code cell {i}: outputs must be cleared before committing"
            assert cell.get("execution_count") is None, f"{path.name} code cell {i}: execution_count must be cleared"
    text = path.read_text(encoding="utf-8")
    match = MACHINE_PATH.search(text)
    assert match is None, f"{path.name}: machine path {match.group(0)!r} in the notebook"


@pytest.fixture(scope="module")
def kernel_name() -> str:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:  # pragma: no cover - only in a broken environment
        pytest.fail("no 'python3' Jupyter kernel: install ipykernel in this environment (pip install -e '.[dev]')")
    return "python3"


@pytest.mark.slow
@pytest.mark.timeout(1800)  # several cells of up to CELL_TIMEOUT each; 02 trains a model
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, kernel_name: str):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    # the kernel gets this process's environment plus a non-interactive matplotlib backend, and
    # imports dualuse from this checkout (not from wherever the package happens to be installed)
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath,
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}", pytrace=False)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
