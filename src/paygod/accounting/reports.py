"""Balances as of any time, statements, trial balances, exports and the rebuild audit.

Everything here reads; balances in the past are replayed from the transfer history,
and the audit replays the ledger entries themselves and compares them with the
running totals the store keeps.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from paygod.accounting.errors import PeriodInvalid
from paygod.accounting.model import Account, Transfer, TransferState
from paygod.accounting.ports import AccountStore, LedgerPort, iter_all_accounts
from paygod.kernel.clock import isoformat
from paygod.kernel.errors import FieldError, InvalidInput


@dataclass(frozen=True, slots=True)
class Balance:
    account_id: str
    ledger: str
    at: datetime
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    balance: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "ledger": self.ledger,
            "at": isoformat(self.at),
            "debits_posted": self.debits_posted,
            "credits_posted": self.credits_posted,
            "debits_pending": self.debits_pending,
            "credits_pending": self.credits_pending,
            "balance": self.balance,
        }


def _posts(t: Transfer) -> bool:
    """Does this transfer move posted totals? (single-phase or the post of a hold)"""
    return t.state is TransferState.POSTED and not t.flags.pending


def _held_at(t: Transfer, at: datetime) -> bool:
    if not t.flags.pending or t.timestamp > at:
        return False
    if t.resolved_at is not None and t.resolved_at <= at:
        return False
    return t.expires_at is None or t.expires_at > at


def balance_at(account: Account, history: Iterable[Transfer], at: datetime) -> Balance:
    dp = cp = dpe = cpe = 0
    for t in history:
        if t.timestamp > at:
            continue
        debit = t.debit_account_id == account.id
        if _posts(t):
            if debit:
                dp += t.amount
            else:
                cp += t.amount
        elif _held_at(t, at):
            if debit:
                dpe += t.amount
            else:
                cpe += t.amount
    diff = dp - cp
    return Balance(
        account.id,
        account.ledger,
        at,
        dp,
        cp,
        dpe,
        cpe,
        diff if account.code.debit_normal else -diff,
    )


@dataclass(frozen=True, slots=True)
class StatementLine:
    transfer_id: str
    timestamp: datetime
    code: str
    counterparty: str
    debit: int
    credit: int
    balance: int
    reference: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "transfer_id": self.transfer_id,
            "timestamp": isoformat(self.timestamp),
            "code": self.code,
            "counterparty": self.counterparty,
            "debit": self.debit,
            "credit": self.credit,
            "balance": self.balance,
            "reference": self.reference,
        }


@dataclass(frozen=True, slots=True)
class Statement:
    account: Account
    start: datetime
    end: datetime
    opening: int
    closing: int
    lines: list[StatementLine] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account.id,
            "ledger": self.account.ledger,
            "from": isoformat(self.start),
            "to": isoformat(self.end),
            "opening_balance": self.opening,
            "closing_balance": self.closing,
            "total_debits": sum(x.debit for x in self.lines),
            "total_credits": sum(x.credit for x in self.lines),
            "lines": [x.as_dict() for x in self.lines],
        }


# A cell a spreadsheet would read as a formula (OWASP "CSV Injection"): `=HYPERLINK(...)` in
# a transfer code runs when an auditor opens the export. Such text cells get a leading
# apostrophe, which spreadsheets show as text; numbers (a negative balance) stay numbers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _CellWriter:
    """`csv.writer` whose rows are neutralised cell by cell (`csv_cell`)."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(cell) for cell in row])


def statement_csv(st: Statement) -> str:
    """The statement as CSV: an opening line, one line per movement, a closing line."""
    out = io.StringIO()
    writer = _CellWriter(out)
    writer.writerow(
        (
            "timestamp",
            "transfer_id",
            "code",
            "counterparty",
            "debit",
            "credit",
            "balance",
            "reference",
        )
    )
    writer.writerow((isoformat(st.start), "", "opening_balance", "", "", "", st.opening, ""))
    for x in st.lines:
        writer.writerow(
            (
                isoformat(x.timestamp),
                x.transfer_id,
                x.code,
                x.counterparty,
                x.debit,
                x.credit,
                x.balance,
                x.reference or "",
            )
        )
    writer.writerow((isoformat(st.end), "", "closing_balance", "", "", "", st.closing, ""))
    return out.getvalue()


def statement(
    account: Account, history: Iterable[Transfer], start: datetime, end: datetime
) -> Statement:
    """Posted movements in [start, end): opening + Σ lines = closing."""
    if end <= start:
        raise PeriodInvalid(
            "the statement period is empty",
            errors=[FieldError("#query/to", "must be after 'from'")],
        )
    sign = 1 if account.code.debit_normal else -1
    opening = 0
    lines: list[StatementLine] = []
    running = 0
    for t in history:
        if not _posts(t) or t.timestamp >= end:
            continue
        debit = t.debit_account_id == account.id
        delta = sign * (t.amount if debit else -t.amount)
        if t.timestamp < start:
            opening += delta
            continue
        if not lines:
            running = opening
        running += delta
        ref = t.metadata.get("reference")
        lines.append(
            StatementLine(
                t.id,
                t.timestamp,
                t.code,
                t.credit_account_id if debit else t.debit_account_id,
                t.amount if debit else 0,
                0 if debit else t.amount,
                running,
                ref if isinstance(ref, str) else None,
            )
        )
    closing = lines[-1].balance if lines else opening
    return Statement(account, start, end, opening, closing, lines)


def trial_balance(accounts: Iterable[Account]) -> dict[str, Any]:
    """Per ledger: every account's debit or credit balance; the two columns must agree."""
    by_ledger: dict[str, list[Account]] = defaultdict(list)
    for a in accounts:
        by_ledger[a.ledger].append(a)
    ledgers = []
    for ledger in sorted(by_ledger):
        rows = []
        debit_total = credit_total = 0
        for a in sorted(by_ledger[ledger], key=lambda x: x.id):
            net = a.debits_posted - a.credits_posted
            debit_total += max(net, 0)
            credit_total += max(-net, 0)
            rows.append(
                {
                    "account_id": a.id,
                    "code": a.code.value,
                    "debit": max(net, 0),
                    "credit": max(-net, 0),
                }
            )
        ledgers.append(
            {
                "ledger": ledger,
                "accounts": rows,
                "total_debits": debit_total,
                "total_credits": credit_total,
                "debits_posted": sum(a.debits_posted for a in by_ledger[ledger]),
                "credits_posted": sum(a.credits_posted for a in by_ledger[ledger]),
                "balanced": debit_total == credit_total,
            }
        )
    return {"ledgers": ledgers, "balanced": all(x["balanced"] for x in ledgers)}


EXPORT_FIELDS = (
    "id",
    "timestamp",
    "state",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "ledger",
    "code",
    "flags",
    "pending_id",
    "reversal_of",
)


def export_transfers(transfers: Iterable[Transfer], fmt: str) -> str:
    if fmt == "json":
        return orjson.dumps([t.as_dict() for t in transfers], option=orjson.OPT_INDENT_2).decode()
    if fmt != "csv":
        raise InvalidInput(
            f"unknown export format {fmt!r}",
            errors=[FieldError("#query/format", "use csv or json")],
        )
    out = io.StringIO()
    writer = _CellWriter(out)
    writer.writerow(EXPORT_FIELDS)
    for t in transfers:
        d = t.as_dict()
        d["flags"] = "|".join(d["flags"])
        writer.writerow(["" if d[k] is None else d[k] for k in EXPORT_FIELDS])
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class AuditReport:
    ok: bool
    accounts_checked: int
    entries_replayed: int
    mismatches: list[dict[str, Any]]
    unbalanced_ledgers: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "accounts_checked": self.accounts_checked,
            "entries_replayed": self.entries_replayed,
            "mismatches": self.mismatches,
            "unbalanced_ledgers": self.unbalanced_ledgers,
        }


TOTALS = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")


def rebuild_totals(
    entries: Iterable[Any], tenant_id: str | None
) -> tuple[dict[tuple[str, str], list[int]], int]:
    """Replay `transfer` ledger entries into the four totals of every account."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    replayed = 0
    for entry in entries:
        if entry.kind != "transfer" or (tenant_id is not None and entry.tenant_id != tenant_id):
            continue
        replayed += 1
        p = entry.payload
        debit = totals[(entry.tenant_id, p["debit_account_id"])]
        credit = totals[(entry.tenant_id, p["credit_account_id"])]
        amount, released = int(p["amount"]), int(p.get("released", "0"))
        action = p["action"]
        if action in ("post_pending", "void_pending", "expire"):
            debit[2] -= released
            credit[3] -= released
        if action in ("post", "post_pending"):
            debit[0] += amount
            credit[1] += amount
        elif action == "pending":
            debit[2] += amount
            credit[3] += amount
    return totals, replayed


def ledger_entries(ledger: LedgerPort, page: int = 1000) -> Iterable[Any]:
    after = -1
    while True:
        batch = ledger.entries(after=after, limit=page)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].seq


def rebuild_check(store: AccountStore, ledger: LedgerPort, tenant_id: str | None) -> AuditReport:
    """Compare every account's running totals with the totals rebuilt from the ledger."""
    with store.reading() as session:
        accounts = list(iter_all_accounts(session, tenant_id))
    totals, replayed = rebuild_totals(ledger_entries(ledger), tenant_id)
    mismatches: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for a in accounts:
        key = (a.tenant_id, a.id)
        seen.add(key)
        running = [getattr(a, name) for name in TOTALS]
        rebuilt = totals.get(key, [0, 0, 0, 0])
        for i, value in enumerate(running):
            sums[f"{a.tenant_id}/{a.ledger}"][i] += value
        if running != rebuilt:
            mismatches.append(
                {
                    "tenant_id": a.tenant_id,
                    "account_id": a.id,
                    "running": dict(zip(TOTALS, running, strict=True)),
                    "rebuilt": dict(zip(TOTALS, rebuilt, strict=True)),
                }
            )
    for key, rebuilt in totals.items():
        if key not in seen and any(rebuilt):
            mismatches.append(
                {"tenant_id": key[0], "account_id": key[1], "running": None, "rebuilt": rebuilt}
            )
    unbalanced = sorted(k for k, s in sums.items() if s[0] != s[1] or s[2] != s[3])
    return AuditReport(
        not mismatches and not unbalanced, len(accounts), replayed, mismatches, unbalanced
    )
