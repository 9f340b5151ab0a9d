"""Where a scored file goes: a temporary file renamed into place, or a stream.

* A regular file (or a path that does not exist yet) is written to a temporary file next to
  it, named ``.NAME.dualuse-PID.part``, and renamed over it only on success. An existing
  output keeps its permission bits; a read-only one is refused, as a shell redirection would.
* A symbolic link is written through: the temporary file is created next to the link's
  target and replaces the target, so the link stays a link.
* A FIFO, a character device (``/dev/stdout``, ``/dev/null``) or ``-`` (standard output) is
  written directly, as a stream: such a node is never replaced, and a failed run may leave
  part of the output in it.
* Temporary files of runs that were killed (their PID is no longer alive) are removed by the
  next run into the same directory.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path
from typing import IO

from ..errors import OutputWriteError
from .readers import STDIO

__all__ = ["Destination", "temp_name", "remove_stale_parts"]

_PART = re.compile(r"^\.(?P<name>.+)\.dualuse-(?P<pid>\d+)(?:-\d+)?\.part$")


def temp_name(name: str, pid: int, attempt: int = 0) -> str:
    """The temporary file name of output ``name`` written by process ``pid``."""
    return f".{name}.dualuse-{pid}{'' if attempt == 0 else f'-{attempt}'}.part"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    except OverflowError:
        return False
    return True


def remove_stale_parts(directory: Path) -> list[str]:
    """Remove temporary outputs left in ``directory`` by runs whose process is gone; their names."""
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        m = _PART.match(name)
        if m is None or _alive(int(m.group("pid"))):
            continue
        path = directory / name
        try:
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.unlink(path)
                removed.append(name)
        except OSError:  # raced with another cleaner, or not ours to remove
            pass
    return removed


def _umask() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


class Destination:
    """The byte sink of one output: :attr:`fh` is a binary file; :meth:`commit` or :meth:`abort` ends it."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.stream = False
        self.tmp: Path | None = None
        self.mode = 0o666 & ~_umask()
        if str(output) == STDIO:
            self.stream = True
            sys.stdout.flush()
            self.fh: IO[bytes] = sys.stdout.buffer
            self.owned = False
            return
        self.owned = True
        target = Path(os.path.realpath(output)) if output.is_symlink() else output
        self.target = target
        try:
            st = os.stat(target)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise OutputWriteError(f"output: cannot use {str(output)!r}: {exc.strerror or exc}") from None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise OutputWriteError(f"output: {str(output)!r} is a directory; give a file name")
        if st is not None and not stat.S_ISREG(st.st_mode):
            self.stream = True
            self.fh = self._open(lambda: open(target, "wb"))  # noqa: SIM115 - a stream kept open until commit
            return
        if st is not None:
            if not (st.st_mode & 0o222) or not os.access(target, os.W_OK):
                raise OutputWriteError(
                    f"output: {str(output)!r} exists and is read-only; make it writable or choose another path"
                )
            self.mode = stat.S_IMODE(st.st_mode)
        directory = target.parent
        remove_stale_parts(directory)
        fd = -1
        for attempt in range(100):
            tmp = directory / temp_name(target.name, os.getpid(), attempt)
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise OutputWriteError(f"output: cannot write in {str(directory) or '.'!r}: {exc.strerror or exc}") from None
        if fd < 0:
            raise OutputWriteError(f"output: cannot create a temporary file in {str(directory)!r}")
        self.tmp = tmp
        self.fh = os.fdopen(fd, "wb", buffering=1 << 20)

    def _open(self, opener):
        try:
            return opener()
        except OSError as exc:
            raise OutputWriteError(f"output: cannot write {str(self.output)!r}: {exc.strerror or exc}") from None

    def commit(self) -> None:
        """Flush the output and, for a file, rename the temporary file into place."""
        self.fh.flush()
        if self.owned:
            self.fh.close()
        if self.tmp is not None:
            os.chmod(self.tmp, self.mode)
            os.replace(self.tmp, self.target)
            self.tmp = None

    def abort(self) -> None:
        """Close and remove the temporary file (a stream keeps what was written)."""
        try:
            if self.owned:
                self.fh.close()
            else:
                self.fh.flush()
        except (OSError, ValueError):  # broken pipe, full disk: the output is abandoned anyway
            pass
        if self.tmp is not None:
            try:
                self.tmp.unlink()
            except FileNotFoundError:
                pass
            self.tmp = None
