"""Who may read the data under PAYGOD_HOME: the database (payees' personal data, the sealed
identity secrets) and the key files must be the service user's alone.

Paygod creates them so (files 0600, folders 0700). A home prepared by hand, restored from a
backup or copied under a umask of 022 may not be: `loose_paths` names what others can
reach, `serve` warns loudly at start and `/readyz` reports `permissions` as a warning until
it is fixed. The key-encryption key itself is refused when loose (identity/sealing.py): a
KEK others can read protects nothing.
"""

from __future__ import annotations

import stat
from pathlib import Path

_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def loose_paths(home: Path, sqlite_path: Path | None) -> list[str]:
    """`path (mode)` for each data file or folder that group or others can reach."""
    candidates = [home, home / "keys"]
    if sqlite_path is not None:
        candidates += [sqlite_path.parent, sqlite_path]
        candidates += [sqlite_path.with_name(sqlite_path.name + s) for s in ("-wal", "-shm")]
    keys = home / "keys"
    if keys.is_dir():
        candidates += sorted(p for p in keys.iterdir() if p.is_file())
    loose: list[str] = []
    for path in dict.fromkeys(candidates):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & _OTHERS:
            loose.append(f"{path} ({mode:o})")
    return loose


def permissions_probe(home: Path, sqlite_path: Path | None) -> str:
    loose = loose_paths(home, sqlite_path)
    if loose:
        raise PermissionError(
            "readable by other users: " + ", ".join(loose) + "; run chmod 700 on folders and"
            " chmod 600 on files"
        )
    return "data files 0600, folders 0700"


def private_home(home: Path) -> None:
    """Create PAYGOD_HOME (and its parents) for the service user alone, whichever command
    comes first (`migrate` before `serve` in `make run`)."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
