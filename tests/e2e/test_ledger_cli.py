"""`paygod ledger ...` as a user drives it: exit codes 0 intact, 1 tampered, 2 unreadable."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.e2e.conftest import run_cli


def test_append_export_tamper_verify_import(paygod_home: Path, tmp_path: Path) -> None:
    payload = tmp_path / "p.json"
    payload.write_text('{"amount": 1250, "currency": "EUR"}')
    first = run_cli(
        "ledger", "append", "--kind", "observation", "--subject", "acct-1",
        "--payload", str(payload), "--json",
    )  # fmt: skip
    assert first.code == 0, first.stderr
    assert json.loads(first.stdout)["seq"] == 0
    second = run_cli(
        "ledger", "append", "--kind", "observation", "--subject", "acct-2",
        "--payload", str(payload), "--valid-from", "2026-01-01T00:00:00Z",
    )  # fmt: skip
    assert second.code == 0, second.stderr

    verified = run_cli("ledger", "verify", "--json")
    assert verified.code == 0, verified.stdout
    assert json.loads(verified.stdout)["tree_size"] == 2

    export = tmp_path / "ledger.jsonl"
    assert run_cli("ledger", "export", "--format", "jsonl", "--out", str(export)).code == 0
    lines = export.read_text().splitlines()
    assert [json.loads(line)["entry_index"] for line in lines] == [0, 1]
    assert run_cli("ledger", "verify", "--file", str(export)).code == 0

    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(lines[0].replace("1250", "9250") + "\n" + lines[1] + "\n")
    bad = run_cli("ledger", "verify", "--file", str(tampered), "--json")
    assert bad.code == 1
    finding = json.loads(bad.stdout)["findings"][0]
    assert (finding["index"], finding["field"]) == (0, "record_hash")

    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("{not json\n")
    assert run_cli("ledger", "verify", "--file", str(garbage)).code == 2

    proof = run_cli("ledger", "prove", "1")
    assert proof.code == 0
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(proof.stdout)
    assert run_cli("ledger", "check-proof", str(proof_file)).code == 0
    doc = json.loads(proof.stdout)
    doc["leaf_index"] = 0
    proof_file.write_text(json.dumps(doc))
    invalid = run_cli("ledger", "check-proof", str(proof_file), "--json")
    assert invalid.code == 1 and json.loads(invalid.stdout)["valid"] is False
    proof_file.write_text('{"leaf_index": 0}')
    assert run_cli("ledger", "check-proof", str(proof_file)).code == 2

    # A fresh ledger imports the export and ends with the same root.
    other = tmp_path / "other-home"
    imported = run_cli("ledger", "import", "--file", str(export), env={"PAYGOD_HOME": str(other)})
    assert imported.code == 0, imported.stderr
    head_a = json.loads(run_cli("ledger", "head", "--json").stdout)
    head_b = json.loads(run_cli("ledger", "head", "--json", env={"PAYGOD_HOME": str(other)}).stdout)
    assert head_a["root_hash"] == head_b["root_hash"]
    assert head_a["key_id"] != head_b["key_id"]
    refused = run_cli("ledger", "import", "--file", str(tampered), env={"PAYGOD_HOME": str(other)})
    assert refused.code == 1


def test_show_unknown_and_bad_instant(paygod_home: Path) -> None:
    assert run_cli("ledger", "show", "5").code == 2
    bad = run_cli("ledger", "at", "acct-1", "--recorded", "not-a-time")
    assert bad.code == 2
    assert "--recorded" in bad.stderr


def test_verify_and_check_proof_print_one_line_each(tmp_path: Path) -> None:
    # stdout is read by scripts: "intact: N entries, root <hash>" was wrapped at 80 columns
    # when stdout was not a terminal, putting the root hash on a line of its own.
    from paygod.decisions.bundle import GENESIS, interchange_entry

    entry = interchange_entry(0, "2026-01-28T11:05:08Z", GENESIS, {"note": "x" * 120})
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text(json.dumps(entry) + "\n")
    verified = run_cli("ledger", "verify", "--file", str(ledger))
    assert verified.code == 0, verified.stderr
    (line,) = verified.stdout.splitlines()
    assert re.fullmatch(r"intact: 1 entries, root [0-9a-f]{64}", line), line

    proof = tmp_path / "proof.json"
    leaf = "00" * 32
    proof.write_text(
        json.dumps(
            {"leaf_index": 10**30, "tree_size": 65, "leaf_hash": leaf, "audit_path": []}
            | {"root_hash": leaf}
        )
    )
    checked = run_cli("ledger", "check-proof", str(proof))
    assert checked.code == 1, checked.stdout + checked.stderr
    (line,) = checked.stdout.splitlines()
    assert line.startswith("invalid inclusion: ") and line.endswith("tree_size 65"), line
