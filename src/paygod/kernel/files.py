"""Writing a file whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def replace_durably(path: Path, content: bytes, *, prefix: str = ".part-") -> None:
    """Put `content` at `path` in one step: it goes to a temporary file beside it (mode
    0600, as mkstemp creates it), is fsynced and renamed over `path`, so a reader sees the
    old file or the new one, never a torn one; a failure removes the temporary file."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def create_once(path: Path, content: bytes) -> None:
    """Create `path` with `content` (mode 0600, its folder 0700) unless it exists. The
    content is written whole and fsynced beside it first, then linked, not renamed, into
    place: when another process created the file meanwhile, theirs wins and stays."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
