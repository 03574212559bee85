"""Every policy source (directory, Git via dulwich, database) behaves the same behind the
port: a new signed version is served after a poll; a refused one (a file changed after
signing) keeps the previous version serving and is reported with its reason."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from paygod.decisions.bundles import MANIFEST, SIGNATURE, Keyring
from paygod.decisions.packs import DEFAULT_PACKS_DIR, PackRepository
from paygod.decisions.sources import (
    RELEASES,
    DatabaseSource,
    DirectorySource,
    GitSource,
    PolicySource,
    Snapshot,
    SourcePoller,
)
from paygod.governance.uploads import bundle_entry
from paygod.kernel.clock import ManualClock
from paygod.ledger.ports import LedgerStore
from paygod.ledger.service import LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore
from tests.contract.test_ledger_store import make_store
from tests.support.bundles import PACK, challenger_bundle, keypair, signed_copy

Publish = Callable[[Path], None]


def _files(bundle: Path) -> dict[str, bytes]:
    return {
        f.relative_to(bundle).as_posix(): f.read_bytes()
        for f in sorted(bundle.rglob("*"))
        if f.is_file() and f.name not in {MANIFEST, SIGNATURE}
    }


def directory_source(tmp: Path) -> tuple[PolicySource, Publish]:
    live = tmp / "live"

    def publish(bundle: Path) -> None:
        if live.exists():
            shutil.rmtree(live)
        shutil.copytree(bundle, live)

    return DirectorySource(live), publish


def git_source(tmp: Path) -> tuple[PolicySource, Publish]:
    from dulwich import porcelain

    work = tmp / "repo"
    repo = porcelain.init(str(work))
    repo.close()

    def publish(bundle: Path) -> None:
        for child in work.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.copytree(bundle, work, dirs_exist_ok=True)
        porcelain.add(str(work), paths=[str(p) for p in work.rglob("*") if ".git" not in p.parts])
        porcelain.commit(str(work), message=b"policy", author=b"p <p@x>", committer=b"p <p@x>")

    return GitSource(work, tmp / "cache", ref="HEAD"), publish


def database_source(tmp: Path, store: LedgerStore | None = None) -> tuple[PolicySource, Publish]:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    ledger = LedgerService(store or MemoryLedgerStore(), clock)

    def publish(bundle: Path) -> None:
        manifest = orjson.loads((bundle / MANIFEST).read_bytes())
        signature = orjson.loads((bundle / SIGNATURE).read_bytes())
        draft = bundle_entry(
            manifest, signature, _files(bundle), actor="t", at="2026", subject=RELEASES
        )
        ledger.append(draft)

    return DatabaseSource(ledger.history, tmp / "cache"), publish


SOURCES = ["directory", "git", "database-memory", "database-sqlite", "database-postgres"]


@pytest.fixture(params=SOURCES)
def source(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[PolicySource, Publish]]:
    """The database source over each SQL ledger store as well (its releases are entries)."""
    kind = str(request.param)
    if kind == "directory":
        yield directory_source(tmp_path)
    elif kind == "git":
        yield git_source(tmp_path)
    else:
        stores = make_store(kind.removeprefix("database-"), tmp_path, request)
        yield database_source(tmp_path, next(stores))
        stores.close()


def test_a_source_serves_each_signed_version_and_keeps_the_last_good_one(
    source: tuple[PolicySource, Publish], tmp_path: Path
) -> None:
    port, publish = source
    private, public = keypair(tmp_path, "release")
    refused: list[tuple[Snapshot, str]] = []
    poller = SourcePoller(port, Keyring.load(public), lambda s, r: refused.append((s, r)))
    packs = PackRepository(tmp_path / "unused", keyring=Keyring.load(public), source=poller)
    assert packs.packs() == []  # nothing published yet: nothing is enforced

    publish(signed_copy(DEFAULT_PACKS_DIR, tmp_path / "v1", private, "1.0.0"))
    packs.refresh(force=True)
    assert packs.get(PACK) is not None and packs.get(PACK).version == "1.1.0"  # type: ignore[union-attr]
    first = poller.active
    assert first is not None and first.source == port.kind

    publish(challenger_bundle(tmp_path / "v2", private))
    packs.refresh(force=True)
    assert packs.get(PACK).version == "1.2.0"  # type: ignore[union-attr]
    assert packs.trust() == "signed bundle payments 1.1.0"

    tampered = tmp_path / "v3"
    shutil.copytree(challenger_bundle(tmp_path / "v3src", private), tampered)
    pack_file = tampered / PACK / "pack.yaml"
    pack_file.write_text(pack_file.read_text().replace("400000", "1"))
    publish(tampered)
    packs.refresh(force=True)
    assert packs.get(PACK).version == "1.2.0"  # type: ignore[union-attr]
    assert len(refused) == 1 and "changed since it was signed" in refused[0][1]
    with pytest.raises(RuntimeError, match=r"stays active; .*refused: .*changed since"):
        packs.trust()
    packs.refresh(force=True)  # the same refused version is reported once
    assert len(refused) == 1


def test_a_sealed_release_read_back_is_checked_again(tmp_path: Path) -> None:
    """A database release whose stored files were altered is refused like any other."""
    port, publish = database_source(tmp_path)
    private, public = keypair(tmp_path, "release")
    bundle = signed_copy(DEFAULT_PACKS_DIR, tmp_path / "v1", private, "1.0.0")
    files = _files(bundle)
    files[f"{PACK}/pack.yaml"] += b"\n# edited\n"
    for path, content in files.items():
        (bundle / path).write_bytes(content)
    publish(bundle)
    poller = SourcePoller(port, Keyring.load(public))
    assert poller.poll() is None and "changed since it was signed" in str(poller.problem)
