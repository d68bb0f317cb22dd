"""Atomic file output: a reader never sees a half-written file, and a link is written through, never replaced.

Every file ablasim writes goes through :func:`atomic_write_bytes`:

* the path is resolved first: a symbolic link (or a chain of them) is followed to the file it names, which is
  written (created if the link dangles), so the link stays a link;
* an existing target that is not a regular file (a FIFO, a device node, a socket, a directory) is refused with an
  error naming it: ablasim writes regular files only;
* the data go to a temporary file beside the target, are flushed to disk, and the temporary file is renamed over
  the target (``os.replace`` is atomic on POSIX and Windows). A file that existed keeps its permission bits; a new
  one gets ``0666`` less the user's umask, like any file the user writes.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from pathlib import Path

from .errors import ValidationError

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_write_text", "resolve_output"]


def resolve_output(path: str | os.PathLike) -> Path:
    """The regular file a write to ``path`` must replace: links followed; anything else refused."""
    target = Path(os.path.realpath(os.fspath(path)))
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(st.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "a device node"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "not a regular file"
        )
        named = "" if str(target) == os.fspath(path) else f" (the link {os.fspath(path)} points to it)"
        raise ValidationError(
            f"output {target}{named}",
            kind,
            "ablasim writes regular files only: give the path of a file to create or replace",
        )
    return target


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); parent directories are created. Returns
    the path given."""
    target = resolve_output(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    for _ in range(100):
        tmp = str(target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 48-bit random names
        raise FileExistsError(f"could not create a temporary file next to {target}")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: object) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")
