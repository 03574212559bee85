"""`paygod projections|backup|restore` as a user runs them, and projection lag on /metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path

from paygod.bootstrap import Kernel
from tests.e2e.conftest import run_cli
from tests.support.http import api_client


def _ok(*args: str, env: dict[str, str] | None = None) -> str:
    done = run_cli(*args, env=env)
    assert done.code == 0, (args, done.stderr)
    return done.stdout


def _books(home: Path) -> dict[str, object]:
    env = {"PAYGOD_HOME": str(home)}
    return {
        "accounts": json.loads(_ok("accounts", "list", "--json", env=env)),
        "transfers": json.loads(_ok("transfers", "list", "--json", env=env)),
        "balance": json.loads(_ok("accounts", "balance", "cash", "--json", env=env))["balance"],
        "users": json.loads(_ok("users", "list", "--json", env=env)),
    }


def test_projections_backup_and_restore(paygod_home: Path, tmp_path: Path) -> None:
    _ok(
        "accounts",
        "create",
        "--id",
        "cash",
        "--ledger",
        "USD",
        "--code",
        "asset",
        "--metadata",
        '{"desk": "north"}',
    )
    _ok("accounts", "create", "--id", "eq", "--ledger", "USD", "--code", "equity")
    _ok(
        "transfers",
        "create",
        "--id",
        "t1",
        "--debit",
        "cash",
        "--credit",
        "eq",
        "--amount",
        "500",
        "--metadata",
        '{"invoice": "a-1"}',
    )
    _ok(
        "transfers",
        "create",
        "--id",
        "h1",
        "--debit",
        "cash",
        "--credit",
        "eq",
        "--amount",
        "70",
        "--pending",
    )
    _ok("transfers", "post", "h1", "--amount", "50")
    _ok(
        "transfers",
        "create",
        "--id",
        "h2",
        "--debit",
        "cash",
        "--credit",
        "eq",
        "--amount",
        "30",
        "--pending",
    )
    _ok("transfers", "void", "h2")
    _ok("transfers", "reverse", "t1", "--amount", "100")
    _ok("users", "create", "carol", "--role", "operator")  # sealed: restored with the books

    checked = json.loads(_ok("projections", "check", "--json"))
    assert all(p["ok"] for p in checked["projections"])
    rebuilt = json.loads(_ok("projections", "rebuild", "accounting", "--json"))["rebuilt"]
    assert rebuilt[0]["rows"] == {"accounting_accounts": 2, "accounting_transfers": 6}
    status = json.loads(_ok("projections", "status", "--json"))["projections"]
    assert {s["name"]: s["lag_entries"] for s in status} == {
        "accounting": 0,
        "cases": 0,
        "consents": 0,
        "decisions": 0,
        "identity": 0,
        "payments": 0,
    }
    unknown = run_cli("projections", "rebuild", "ledgers")
    assert unknown.code == 2
    assert unknown.stderr.strip() == (
        "error: no projection 'ledgers'; the projections are: "
        "accounting, cases, consents, decisions, identity, payments"
    )

    backup_dir = tmp_path / "bk"
    made = json.loads(_ok("backup", "--out", str(backup_dir), "--json"))
    assert made["signing_key_included"] and made["tree_size"] > 0
    assert "kek" not in json.dumps(sorted(made["files"]))
    again = run_cli("backup", "--out", str(backup_dir))
    assert again.code == 2 and "not an empty directory" in again.stderr

    target = tmp_path / "restored"
    env = {"PAYGOD_HOME": str(target)}
    restored = json.loads(_ok("restore", str(backup_dir), "--json", env=env))
    assert restored["accounts_audit"]["ok"] and restored["signing_key_restored"]
    _ok("accounts", "audit", env=env)
    books = _books(target)
    assert books == _books(paygod_home)
    assert [u["name"] for u in books["users"]["principals"]] == ["carol"]  # type: ignore[index]
    verified = run_cli("ledger", "verify", env=env)
    assert verified.code == 0, verified.stdout + verified.stderr

    refused = run_cli("restore", str(backup_dir))  # into the busy home itself
    assert refused.code == 2
    assert "is not empty" in refused.stderr and "nothing restored" in refused.stderr

    cut = tmp_path / "pit"
    early = json.loads(
        _ok("restore", str(backup_dir), "--tree-size", "3", "--json", env={"PAYGOD_HOME": str(cut)})
    )
    assert early["tree_size"] == 3 and early["accounts_audit"]["ok"]

    ledger = backup_dir / "ledger.jsonl"
    ledger.write_bytes(ledger.read_bytes().replace(b'"500"', b'"5000"', 1))
    tampered = run_cli("restore", str(backup_dir), env={"PAYGOD_HOME": str(tmp_path / "t")})
    assert tampered.code == 1
    assert "ledger.jsonl does not match its sha256" in tampered.stderr
    assert not (tmp_path / "t").exists()


def test_projection_lag_on_metrics(standalone_kernel: Kernel) -> None:
    kernel = standalone_kernel
    from paygod.ledger import EntryDraft

    kernel.ledger.append_many([EntryDraft("note", "s", {"n": i}) for i in range(5)])
    with api_client(kernel) as http:
        live = http.get("/metrics").text
        # A rebuild under way stands at its stored position until the switch.
        kernel.projections._store_now("payments", 2, "rebuilding")
        rebuilding = http.get("/metrics").text
    assert 'paygod_projection_lag_entries{projection="payments"} 0.0' in live
    assert 'paygod_scrape_errors{gauge="projections"} 0.0' in live
    found = re.search(r'paygod_projection_lag_entries\{projection="payments"\} (\S+)', rebuilding)
    assert found and float(found.group(1)) == kernel.ledger.size - 2
    assert 'paygod_projection_position{projection="payments"} 2.0' in rebuilding


def test_projections_over_http(standalone_kernel: Kernel) -> None:
    from tests.support.http import principal_headers

    kernel = standalone_kernel
    with api_client(kernel) as http:
        listed = http.get("/v1/projections")
        one = http.get("/v1/projections/accounting")
        head = kernel.ledger.size  # before the next principal and key are sealed
        unknown = http.get("/v1/projections/ledgers")
        tenant_admin = principal_headers(kernel, roles=["admin"], tenant_id="acme")
        refused = http.get("/v1/projections", headers=tenant_admin)
    assert listed.status_code == 200, listed.text
    names = [p["name"] for p in listed.json()["projections"]]
    assert names == ["accounting", "cases", "consents", "decisions", "identity", "payments"]
    assert one.json()["tables"] == ["accounting_accounts", "accounting_transfers"]
    assert one.json()["lag_entries"] == 0 and one.json()["head"] == head
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert unknown.json()["projections"] == names
    assert "the projections are: accounting, cases" in unknown.json()["detail"]
    assert refused.status_code == 403  # a position is the shared ledger's size
