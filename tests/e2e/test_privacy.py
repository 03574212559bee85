"""The PII vault as users drive it: HTTP (compliance officers) and `paygod gdpr|retention`.

The erasure promise is checked on the files themselves: after `erase`, a copy of the
SQLite database (and its WAL) holds no wrapped key for the subject, so even with the KEK
none of the subject's records opens; the ledger verifies and the erasure entry has an
inclusion proof the standalone verifier accepts.
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from paygod.bootstrap import Kernel
from paygod.identity.sealing import SEALED_PREFIX, SealedSecretUnreadable
from paygod.ledger import verifier
from paygod.privacy import crypto
from paygod.privacy.wiring import kek_box
from tests.e2e.conftest import run_cli
from tests.support.http import api_client, principal_headers

ANNA = "urn:paygod:person:anna"
PAYEE = {"name": "Zoë Müller", "iban": "DE89370400440532013000"}


def _officer(kernel: Kernel) -> dict[str, str]:
    return principal_headers(kernel, roles=["compliance_officer"], name="officer")


def test_erasure_over_http_then_410_404_409_and_roles(standalone_kernel: Kernel) -> None:
    kernel = standalone_kernel
    http = api_client(kernel, _officer(kernel))
    made = http.post(
        "/v1/compliance/vault/records", json={"subject": ANNA, "class": "payee", "data": PAYEE}
    )
    assert made.status_code == 201, made.text
    urn = made.json()["record"]
    assert http.get(f"/v1/compliance/vault/records/{urn}").json()["data"] == PAYEE

    agent = api_client(kernel, principal_headers(kernel, roles=["agent"], name="a"))
    auditor = api_client(kernel, principal_headers(kernel, roles=["auditor"], name="au"))
    for client in (agent, auditor):
        assert client.post("/v1/compliance/erasure", json={"subject": ANNA}).status_code == 403
        assert client.get(f"/v1/compliance/subjects/{ANNA}/export").status_code == 403

    size = kernel.ledger.size
    unknown = http.post("/v1/compliance/erasure", json={"subject": "urn:paygod:person:x"})
    assert unknown.status_code == 404 and kernel.ledger.size == size
    held = http.post("/v1/compliance/holds", json={"subject": ANNA, "reason": "case 42"})
    assert held.status_code == 201
    size = kernel.ledger.size
    refused = http.post("/v1/compliance/erasure", json={"subject": ANNA})
    assert refused.status_code == 409 and "case 42" in refused.json()["detail"]
    assert refused.json()["hold"]["reason"] == "case 42" and kernel.ledger.size == size
    assert http.delete(f"/v1/compliance/holds/{ANNA}").status_code == 200

    erased = http.post("/v1/compliance/erasure", json={"subject": ANNA})
    assert erased.status_code == 200, erased.text
    assert erased.json()["receipt"]["seq"] == erased.json()["seq"]
    gone = http.get(f"/v1/compliance/vault/records/{urn}")
    assert gone.status_code == 410
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["erased_at"] == erased.json()["erased_at"]

    exported = http.get(f"/v1/compliance/subjects/{ANNA}/export").json()
    assert exported["export"]["erased_at"] == erased.json()["erased_at"]
    kinds = [e["kind"] for e in exported["export"]["ledger"]]
    assert kinds == ["vault.record", "gdpr.hold", "gdpr.release", "gdpr.erasure"]


def test_a_copy_of_the_database_cannot_decrypt_an_erased_subject(
    standalone_kernel: Kernel, tmp_path: Path
) -> None:
    kernel = standalone_kernel
    vault = kernel.privacy.vault
    tenant = kernel.settings.tenant
    mine, _ = vault.put(tenant, ANNA, "payee", PAYEE)
    vault.put(tenant, ANNA, "kyc", {"passport": "C01X00T47"})
    other, _ = vault.put(tenant, "urn:paygod:person:ben", "payee", {"name": "Ben"})
    key = kernel.privacy.vault.vault.key(tenant, ANNA)
    assert key is not None and key.wrapped is not None
    wrapped = key.wrapped

    erased = vault.erase(tenant, ANNA, "officer")
    db_path = kernel.settings.sqlite_path
    copy = tmp_path / "copy.db"
    shutil.copy(db_path, copy)
    wal = db_path.with_name(db_path.name + "-wal")
    if wal.exists():
        shutil.copy(wal, tmp_path / "copy.db-wal")
    files = b"".join(p.read_bytes() for p in tmp_path.glob("copy.db*"))
    assert wrapped.encode() not in files  # not in a free page, not in the WAL

    box = kek_box(kernel.settings)  # the KEK itself does not bring the subject back
    with sqlite3.connect(copy) as conn:
        rows = conn.execute("SELECT record_id, subject, sealed FROM privacy_records").fetchall()
        keys = conn.execute("SELECT subject, wrapped FROM privacy_subject_keys").fetchall()
    assert dict(keys)[ANNA] is None
    candidates = [w for _, w in keys if w] + [
        SEALED_PREFIX + chunk.split(SEALED_PREFIX, 1)[1][:100]
        for chunk in files.decode("latin-1").split("\x00")
        if SEALED_PREFIX in chunk
    ]
    anna_records = [r for r in rows if r[1] == ANNA]
    assert len(anna_records) == 2
    opened = 0
    for candidate in candidates:
        try:
            data_key = crypto.unwrap(box, candidate, tenant, ANNA)
        except (SealedSecretUnreadable, ValueError):
            continue
        opened += 1
        for record_id, subject, sealed in anna_records:
            with pytest.raises(crypto.RecordUnreadable):
                crypto.open_sealed(data_key, base64.b64decode(sealed), record_id, subject)
    assert opened == 0
    assert vault.read(tenant, other.urn)["data"] == {"name": "Ben"}

    assert kernel.ledger.verify().ok
    kernel.ledger.flush_tree_head()
    proof = kernel.ledger.inclusion_proof(erased["seq"]).as_dict()
    assert verifier.check_inclusion(proof) is None
    entry = kernel.ledger.get(erased["seq"])
    assert entry is not None and entry.kind == "gdpr.erasure"
    assert verifier.interchange_leaf_hash(entry.to_interchange()).hex() == proof["leaf_hash"]
    assert "Müller" not in json.dumps(entry.payload) and mine.digest not in json.dumps(
        entry.payload
    )


def test_gdpr_and_retention_cli(paygod_home: Path, tmp_path: Path) -> None:
    data = tmp_path / "payee.json"
    data.write_text(json.dumps(PAYEE))
    put = run_cli("gdpr", "put", ANNA, "--class", "payee", "--data", str(data), "--json")
    assert put.code == 0, put.stderr
    record = json.loads(put.stdout)["record"]
    assert json.loads(run_cli("gdpr", "show", record, "--json").stdout)["data"] == PAYEE

    out = tmp_path / "anna.json"
    exported = run_cli("gdpr", "export", ANNA, "--out", str(out))
    assert exported.code == 0, exported.stderr
    assert json.loads(out.read_text())["export"]["records"][0]["data"] == PAYEE
    assert out.stat().st_mode & 0o077 == 0

    assert run_cli("gdpr", "hold", ANNA, "--reason", "case 7").code == 0
    refused = run_cli("gdpr", "erase", ANNA)
    assert refused.code == 1 and "case 7" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert run_cli("gdpr", "release", ANNA).code == 0
    unknown = run_cli("gdpr", "erase", "urn:paygod:person:nobody")
    assert unknown.code == 2 and unknown.stderr.startswith("error:")
    assert run_cli("gdpr", "erase", ANNA, "--json").code == 0
    gone = run_cli("gdpr", "show", record)
    assert gone.code == 1 and "erased at" in gone.stderr

    assert run_cli("retention", "set", "access_logs", "--max-age-days", "30").code == 0
    bad = run_cli("retention", "set", "everything", "--max-age-days", "30")
    assert bad.code == 2 and "/data_class" in bad.stderr
    shown = json.loads(run_cli("retention", "show", "--json").stdout)
    assert [p["data_class"] for p in shown["policies"]] == ["access_logs"]
    ran = run_cli("retention", "run", "--json")
    assert ran.code == 0, ran.stderr
    assert json.loads(ran.stdout)["counts"]["access_logs_deleted"] == 0
    verified = json.loads(run_cli("ledger", "verify", "--json").stdout)
    assert verified["tree_size"] >= 6


def test_kyc_evidence_is_sealed_in_the_vault_and_erased_with_its_subject(
    standalone_kernel: Kernel,
) -> None:
    kernel = standalone_kernel
    admin = api_client(kernel)
    body = {"subject": "customer:k1", "check": "document", "data": {"passport": "C01X00T47"}}
    checked = admin.post("/v1/kyc/checks", json=body)
    assert checked.status_code in (200, 201), checked.text
    entry = kernel.ledger.get(checked.json()["seq"])
    assert entry is not None and "C01X00T47" not in json.dumps(entry.payload)
    urn = entry.payload["evidence_record"]
    officer = api_client(kernel, _officer(kernel))
    subject = "urn:paygod:kyc:customer:k1"
    exported = officer.get(f"/v1/compliance/subjects/{subject}/export").json()["export"]
    assert [r["data"] for r in exported["records"]] == [{"passport": "C01X00T47"}]
    assert officer.post("/v1/compliance/erasure", json={"subject": subject}).status_code == 200
    assert officer.get(f"/v1/compliance/vault/records/{urn}").status_code == 410


def test_a_human_officer_erases_only_with_a_fresh_second_factor(standalone_kernel: Kernel) -> None:
    from paygod.identity.model import PrincipalKind, Role
    from tests.support.stepup import SecondFactor

    kernel = standalone_kernel
    kernel.privacy.vault.put(kernel.settings.tenant, ANNA, "payee", PAYEE)
    human = kernel.identity.create_principal(
        kernel.settings.tenant, "officer-h", PrincipalKind.HUMAN, {Role.COMPLIANCE_OFFICER}
    )
    token = kernel.identity.issue_key(human.principal_id).token
    http = api_client(kernel, {"Authorization": f"Bearer {token}"})
    size = kernel.ledger.size
    refused = http.post("/v1/compliance/erasure", json={"subject": ANNA})
    assert refused.status_code in (401, 403) and kernel.ledger.size == size
    erased = http.post(
        "/v1/compliance/erasure",
        json={"subject": ANNA},
        headers=SecondFactor(kernel, human).header(),
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["requested_by"] == human.principal_id
