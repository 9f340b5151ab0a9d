"""Reading files a caller does not control (model directories, taxonomies) without trusting them.

A path may name a symlink, a FIFO that blocks forever, a device that never ends, or a file
larger than anything it claims; JSON may hide NaN, duplicate keys or nesting deep enough to
exhaust the stack. These readers refuse all of that with the caller's error type, before
anything is parsed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import ModelIntegrityError

__all__ = ["read_regular_file", "read_listed_files", "strict_json", "file_kind"]


def strict_json(data: bytes, where: str, error: type[Exception] = ModelIntegrityError) -> Any:
    """Parse UTF-8 JSON refusing NaN/Infinity, duplicate keys and deep nesting."""

    def no_constants(token: str) -> Any:
        raise ValueError(f"non-standard constant {token}")

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs):
            raise ValueError("duplicate keys")
        return out

    try:
        return json.loads(data.decode("utf-8"), parse_constant=no_constants, object_pairs_hook=unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise error(f"{where}: not valid UTF-8 JSON ({exc})") from None


def read_regular_file(
    path: Path, limit: int, error: type[Exception] = ModelIntegrityError, *, follow_symlinks: bool = False
) -> bytes:
    """All bytes of a regular file no larger than ``limit``, read once.

    The type and size come from the open file itself (``fstat``), so a FIFO or device, or a
    file larger than its manifest claims, is refused without being read; so is a symlink,
    unless ``follow_symlinks`` (then its target must be a regular file).
    """
    try:
        before = os.stat(path) if follow_symlinks else os.lstat(path)
    except FileNotFoundError:
        raise error(f"{path}: missing") from None
    except OSError as exc:
        raise error(f"{path}: cannot inspect it ({exc.strerror or exc})") from None
    if not stat.S_ISREG(before.st_mode):
        raise error(f"{path}: not a regular file ({file_kind(before.st_mode)}); refused")
    # O_NOFOLLOW and O_NONBLOCK: a symlink or FIFO swapped in after lstat neither redirects
    # nor blocks the open; fstat below then refuses it
    nofollow = 0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0)
    flags = os.O_RDONLY | nofollow | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(f"{path}: cannot open it ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
            raise error(f"{path}: replaced while being opened; refused")
        if st.st_size > limit:
            raise error(f"{path}: {st.st_size} bytes exceed the limit; the limit is {limit} bytes; refused")
        data = fh.read(st.st_size + 1)
    if len(data) != st.st_size:
        raise error(f"{path}: changed size while being read; refused")
    return data


def file_kind(mode: int) -> str:
    """What kind of file system entry ``mode`` describes, in words."""
    for test, name in (
        (stat.S_ISLNK, "a symlink"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a plain file"


def read_listed_files(
    directory: Path, names: Iterable[str], listed: Mapping[str, Any], size_limits: Mapping[str, int]
) -> dict[str, bytes]:
    """The bytes of each file ``names`` of ``directory``, each checked against the size and
    sha256 its manifest entry (``listed[name]``) gives before anything parses it.

    A file is read with a bound of the smaller of the listed size and its limit, so a file
    larger than the manifest says is refused unread. Raises :class:`ModelIntegrityError`.
    """
    contents: dict[str, bytes] = {}
    for name in names:
        entry = listed[name]
        path = directory / name
        data = read_regular_file(path, min(entry["size"], size_limits[name]))
        if len(data) != entry["size"]:
            raise ModelIntegrityError(f"{path}: {len(data)} bytes, the manifest says {entry['size']}; refused")
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            raise ModelIntegrityError(f"{path}: sha256 {digest} does not match the manifest's {entry['sha256']}; refused")
        contents[name] = data
    return contents
