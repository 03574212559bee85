"""`paygod ledger verify` checks every stored signed tree head, not only the newest: an
older head corrupted, heads deleted, or history rewritten above an older head with the
newer heads removed is a finding (exit 1, index/field/expected/found)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from paygod.ledger import EntryDraft
from tests.e2e.conftest import run_cli

EVERY = 10


@pytest.fixture
def home(paygod_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """35 entries, one commit each, signed every 10: heads at sizes 10, 20 and 30."""
    from paygod.bootstrap import build_kernel

    monkeypatch.setenv("PAYGOD_TREE_HEAD_EVERY_ENTRIES", str(EVERY))
    monkeypatch.setenv("PAYGOD_TREE_HEAD_EVERY_SECONDS", "3600")
    kernel = build_kernel()
    try:
        for i in range(35):
            kernel.ledger.append(EntryDraft("observation", f"acct-{i}", {"amount": i}))
    finally:
        kernel.close()
    yield paygod_home


def heads(home: Path) -> list[int]:
    with sqlite3.connect(home / "paygod.db") as db:
        return [row[0] for row in db.execute("SELECT tree_size FROM ledger_tree_heads ORDER BY 1")]


def sql(home: Path, statement: str) -> None:
    with sqlite3.connect(home / "paygod.db") as db:
        db.execute(statement)


def verify(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = run_cli("ledger", "verify", "--json", *args)
    assert result.code in (0, 1), result.stderr
    return result.code, json.loads(result.stdout)["findings"]


def test_an_intact_ledger_with_every_head_verifies(home: Path) -> None:
    assert heads(home) == [10, 20, 30]
    assert verify() == (0, [])


def test_a_corrupted_older_signature_is_found(home: Path) -> None:
    sql(
        home,
        "UPDATE ledger_tree_heads SET signature = 'AAAA' || substr(signature, 5) "
        "WHERE tree_size = 10",
    )
    code, findings = verify()
    assert code == 1
    assert [(f["field"], "tree_size 10" in str(f["message"])) for f in findings] == [
        ("signature", True)
    ]


def test_a_signature_that_is_not_base64_is_a_finding_not_a_crash(home: Path) -> None:
    sql(home, "UPDATE ledger_tree_heads SET signature = '!!' WHERE tree_size = 20")
    code, findings = verify()
    assert code == 1 and findings[0]["field"] == "signature"
    assert "malformed" in str(findings[0]["message"])


def test_a_corrupted_older_root_is_found(home: Path) -> None:
    sql(
        home,
        "UPDATE ledger_tree_heads SET root_hash = substr(root_hash, 2) || '0' WHERE tree_size = 10",
    )
    code, findings = verify()
    assert code == 1 and [f["field"] for f in findings] == ["signature"]
    # Re-signing is impossible without the key; a root changed under a valid signature is
    # what a rewrite of the entries below an older head looks like instead.


def test_deleting_every_head_is_found(home: Path) -> None:
    sql(home, "DELETE FROM ledger_tree_heads")
    code, findings = verify()
    assert code == 1
    (finding,) = findings
    assert (finding["index"], finding["field"], finding["found"]) == (
        EVERY - 1,
        "tree_head",
        "none after 0",
    )


def test_deleting_the_newest_heads_is_found(home: Path) -> None:
    sql(home, "DELETE FROM ledger_tree_heads WHERE tree_size > 10")
    code, findings = verify()
    assert code == 1
    assert [(f["index"], f["field"]) for f in findings] == [(19, "tree_head")]


def test_deleting_a_middle_head_is_found(home: Path) -> None:
    sql(home, "DELETE FROM ledger_tree_heads WHERE tree_size = 20")
    code, findings = verify()
    assert code == 1
    assert [(f["index"], f["field"], f["found"]) for f in findings] == [
        (19, "tree_head", "next head at 30")
    ]


def forge(home: Path, tmp_path: Path, at: int) -> None:
    """The report's forgery: re-chain the entries from `at` on in a fresh store (valid
    hashes and tiles) and splice them into the real database; the heads stay."""
    export = tmp_path / "export.jsonl"
    assert run_cli("ledger", "export", "--out", str(export)).code == 0
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    from paygod.ledger.verifier import canonicalize, record_hash

    previous = lines[at - 1]["record_hash"]
    for line in lines[at:]:
        if line["entry_index"] == at:
            line["data"]["payload"]["amount"] = 999_999
        line["previous_hash"] = previous
        line["record_hash"] = record_hash(line["data"], previous, line["timestamp"])
        previous = line["record_hash"]
    forged = tmp_path / "forged.jsonl"
    forged.write_text("".join(canonicalize(line).decode() + "\n" for line in lines))
    forge_home = tmp_path / "forge-home"
    env = {"PAYGOD_HOME": str(forge_home), "PAYGOD_TREE_HEAD_EVERY_ENTRIES": str(EVERY)}
    assert run_cli("ledger", "import", "--file", str(forged), env=env).code == 0
    with sqlite3.connect(home / "paygod.db") as db:
        db.execute("ATTACH ? AS f", (str(forge_home / "paygod.db"),))
        for table in ("ledger_entries", "ledger_merkle_tiles", "ledger_head"):
            db.execute(f"DELETE FROM {table}")
            db.execute(f"INSERT INTO {table} SELECT * FROM f.{table}")


def test_a_rewrite_above_an_older_head_with_newer_heads_removed_is_found(
    home: Path, tmp_path: Path
) -> None:
    forge(home, tmp_path, 12)
    sql(home, "DELETE FROM ledger_tree_heads WHERE tree_size > 10")
    code, findings = verify()
    assert code == 1
    assert [(f["index"], f["field"]) for f in findings] == [(19, "tree_head")]


def test_a_rewrite_under_older_heads_is_found_at_each_of_them(home: Path, tmp_path: Path) -> None:
    forge(home, tmp_path, 5)
    code, findings = verify()
    assert code == 1
    assert [f["field"] for f in findings] == ["root_hash"] * 3
    assert "tree_size 10" in str(findings[0]["message"])


def test_a_pinned_head_is_checked_against_the_store(home: Path, tmp_path: Path) -> None:
    head = run_cli("ledger", "head", "--json")
    assert head.code == 0, head.stderr
    pinned = tmp_path / "head.json"
    pinned.write_text(head.stdout)
    assert verify("--tree-head", str(pinned)) == (0, [])
    doc = json.loads(head.stdout)
    doc["root_hash"] = "0" * 64
    pinned.write_text(json.dumps(doc))
    code, findings = verify("--tree-head", str(pinned))
    assert code == 1 and findings[0]["field"] == "signature"
