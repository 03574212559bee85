"""Writing a file whole or not at all."""

from __future__ import annotations

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
