"""Where the active packs come from, behind one port (`PolicySource`), polled.

- `DirectorySource`: a directory on disk (PAYGOD_PACKS, as before); its version is the
  digest of every file's path and bytes.
- `GitSource`: a Git repository read with dulwich (no git binary): a commit is a version;
  the commit's tree is written out once under the policy home and served from there.
- `DatabaseSource`: bundles released over HTTP (`POST /v1/packs/bundles` with
  `"release": true`), sealed in the ledger whole (kind `policy.bundle`, subject
  `policy:releases`); the last release is the version.

`SourcePoller` asks the source for its current version at most once per poll interval and
checks a new one completely before anything changes: with a keyring, the signed bundle
must verify file for file (decisions/bundles.py); every pack must load. A refused version
keeps the previous one active, is kept as `problem`, and is reported through `refused`
(the kernel seals a `policy.source_refused` entry with an outbox event).
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from paygod.decisions.bundles import (
    PACK_FILE,
    Keyring,
    bundled_pack_dirs,
    materialize_into,
    verify_platform_bundle,
)
from paygod.kernel.errors import InvalidInput

RELEASES = "policy:releases"
_GITLINK = 0o160000  # a submodule's tree entry mode


@dataclass(frozen=True)
class Snapshot:
    """One version of a source's packs, as files in `directory`."""

    source: str
    version: str
    directory: Path


class PolicySource(Protocol):
    kind: str

    def current(self) -> Snapshot | None:
        """The source's current version (written out), or None when it holds none yet."""
        ...


def _tree_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(directory.rglob("*")):
        if file.is_file() and not any(p.startswith(".") for p in file.relative_to(directory).parts):
            digest.update(file.relative_to(directory).as_posix().encode() + b"\x00")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


class DirectorySource:
    kind = "directory"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def current(self) -> Snapshot | None:
        if not self.directory.is_dir():
            return None
        return Snapshot(self.kind, _tree_digest(self.directory), self.directory)


class GitSource:
    """`ref` of the repository at `path`; the packs at the commit's root (or `subdir`)."""

    kind = "git"

    def __init__(self, path: Path, cache: Path, *, ref: str = "HEAD", subdir: str = "") -> None:
        self.path, self.cache, self.ref, self.subdir = path, cache, ref, subdir.strip("/")

    def current(self) -> Snapshot | None:
        from dulwich.errors import NotGitRepository
        from dulwich.refs import Ref
        from dulwich.repo import Repo

        try:
            repo = Repo(str(self.path))
        except NotGitRepository:
            return None
        try:
            try:
                commit_id = repo.refs[Ref(self.ref.encode())]
            except KeyError:
                return None
            commit = repo[commit_id]
            version = commit_id.decode("ascii")
            target = self.cache / version
            if not target.is_dir():
                staging = self.cache / f".{version}.partial"
                if staging.exists():
                    shutil.rmtree(staging)
                staging.mkdir(parents=True)
                _write_tree(repo, commit.tree, staging)  # type: ignore[attr-defined]
                staging.rename(target)
        finally:
            repo.close()
        directory = target / self.subdir if self.subdir else target
        return Snapshot(self.kind, version, directory)


def _write_tree(repo: Any, tree_id: bytes, into: Path) -> None:
    for entry in repo[tree_id].items():
        name = entry.path.decode("utf-8")
        if name in {".", ".."} or "/" in name:
            raise InvalidInput(f"git tree entry {name!r} is not a file name")
        if stat.S_ISDIR(entry.mode):
            (into / name).mkdir()
            _write_tree(repo, entry.sha, into / name)
        elif stat.S_ISLNK(entry.mode) or entry.mode == _GITLINK:
            raise InvalidInput(f"{name}: a policy source may not hold links or submodules")
        else:
            (into / name).write_bytes(repo[entry.sha].data)


class DatabaseSource:
    """The last bundle released over HTTP, as sealed in the ledger."""

    kind = "database"

    def __init__(self, history: Callable[[str], list[Any]], cache: Path) -> None:
        self.history, self.cache = history, cache

    def current(self) -> Snapshot | None:
        releases = [e for e in self.history(RELEASES) if e.kind == "policy.bundle"]
        if not releases:
            return None
        entry = releases[-1]
        version = f"seq-{entry.seq}"
        target = self.cache / version
        if not target.is_dir():
            payload = entry.payload
            files = {p: base64.b64decode(c) for p, c in payload["files"].items()}
            materialize_into(target, payload["manifest"], payload["signature"], files)
        return Snapshot(self.kind, version, target)


def check_snapshot(directory: Path, keyring: Keyring | None) -> None:
    """Raise `InvalidInput` with the reason unless the version can be enforced whole."""
    from paygod.decisions.packs import load_pack

    if keyring is not None:
        manifest = verify_platform_bundle(directory, keyring)
        dirs = list(bundled_pack_dirs(directory, manifest))
    elif (directory / PACK_FILE).is_file():
        dirs = [directory]
    else:
        dirs = sorted(p for p in directory.iterdir() if (p / PACK_FILE).is_file())
    if not dirs:
        raise InvalidInput(f"no {PACK_FILE} in this version")
    for found in dirs:
        load_pack(found)


Refused = Callable[[Snapshot, str], None]


class SourcePoller:
    """The version to serve: the last one that checked out."""

    def __init__(
        self, source: PolicySource, keyring: Keyring | None, refused: Refused | None = None
    ) -> None:
        self.source, self.keyring, self.refused = source, keyring, refused
        self.active: Snapshot | None = None
        self.problem: str | None = None
        self._seen: str | None = None

    def poll(self) -> Snapshot | None:
        """A newly accepted snapshot, or None when nothing changed (or it was refused)."""
        try:
            snapshot = self.source.current()
        except (OSError, InvalidInput, ValueError) as exc:
            self.problem = f"{self.source.kind} source unreadable: {exc}"
            return None
        if snapshot is None or snapshot.version == self._seen:
            return None
        self._seen = snapshot.version
        try:
            check_snapshot(snapshot.directory, self.keyring)
        except (InvalidInput, OSError) as exc:
            reason = exc.detail if isinstance(exc, InvalidInput) else str(exc)
            self.problem = f"{snapshot.source} version {snapshot.version} refused: {reason}"
            if self.refused is not None:
                self.refused(snapshot, reason)
            return None
        self.problem = None
        self.active = snapshot
        return snapshot
