"""`paygod notifications ...` and `paygod documents ...` as an operator drives them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import run_cli


def _ok(*args: str) -> dict[str, object]:
    out = run_cli(*args, "--json")
    assert out.code == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_subscribe_test_deliver_unsubscribe(paygod_home: Path) -> None:
    made = _ok("notifications", "subscribe", "--channel", "inapp", "--target", "ops-1",
               "--event", "case.*", "--event", "payment.*")  # fmt: skip
    sub = str(made["subscription_id"])
    assert made["event_types"] == ["case.*", "payment.*"] and made["secret"] is None
    listed = _ok("notifications", "list")
    assert [s["subscription_id"] for s in listed["subscriptions"]] == [sub]  # type: ignore[index,union-attr]
    queued = _ok("notifications", "test", sub)
    assert queued["status"] == "pending" and queued["event_type"] == "notification.test"
    assert run_cli("worker", "--once").code == 0
    delivered = _ok("notifications", "deliveries")["deliveries"]
    assert delivered[0]["status"] == "sent" and delivered[0]["digest"]  # type: ignore[index]
    bad = run_cli("notifications", "subscribe", "--channel", "webhook", "--target",
                  "http://example.com/h", "--event", "case.*")  # fmt: skip
    assert bad.code == 2 and "https" in bad.stderr
    _ok("notifications", "unsubscribe", sub)
    assert _ok("notifications", "list")["subscriptions"] == []
    assert run_cli("notifications", "unsubscribe", sub).code != 0


def test_documents_put_get_list(paygod_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "statement.csv"
    source.write_text("date,amount\n2026-03-01,100\n")
    stored = _ok("documents", "put", str(source), "--kind", "statement", "--owner", "customer:7")
    assert stored["media_type"] == "text/csv" and str(stored["digest"]).startswith("sha256:")
    out = tmp_path / "copy.csv"
    _ok("documents", "get", str(stored["document_id"]), "--out", str(out))
    assert out.read_bytes() == source.read_bytes()
    assert _ok("documents", "list", "--owner", "customer:7")["documents"][0]["size"] == 27  # type: ignore[index]
    bad = run_cli("documents", "put", str(source), "--kind", "will")
    assert bad.code == 2 and "/kind" in bad.stderr
