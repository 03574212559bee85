"""Reconciliation: match an external statement (CSV of date, amount, reference) to transfers.

Lines are matched by exact reference first (a transfer's id or its metadata
`reference`), then by amount within a date window, closest date first. The report lists
what matched, what is unmatched on each side, and the difference of the totals; it is
recorded in the ledger (kind `reconciliation`) so the result itself is tamper-evident.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from paygod.accounting.currencies import exponent
from paygod.accounting.errors import AccountingCode
from paygod.accounting.model import Account, LedgerRecord, Transfer, TransferState
from paygod.accounting.service import AccountingService
from paygod.kernel.clock import isoformat
from paygod.kernel.errors import FieldError, InvalidInput, NotFound
from paygod.kernel.record_ids import new_id

MAX_LINES = 100_000


@dataclass(frozen=True, slots=True)
class StatementLine:
    line: int
    date: date
    amount: int
    reference: str


def _parse_amount(text: str, digits: int, line: int) -> int:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise InvalidInput(
            f"statement line {line}: amount {text!r} is not a number",
            code=AccountingCode.STATEMENT_INVALID,
            errors=[FieldError(f"/lines/{line}/amount", "not a number")],
        )
    minor = value.scaleb(digits) if "." in text else value
    if minor != minor.to_integral_value():
        raise InvalidInput(
            f"statement line {line}: amount {text!r} has more than {digits} decimals",
            code=AccountingCode.STATEMENT_INVALID,
            errors=[FieldError(f"/lines/{line}/amount", f"at most {digits} decimals")],
        )
    return int(minor)


def parse_statement(text: str, ledger: str) -> list[StatementLine]:
    """CSV with a header naming date, amount and reference (any order, any case).

    Amounts with a decimal point are major units ('12.34' EUR = 1234); without, minor units.
    """
    digits = exponent(ledger)
    reader = csv.DictReader(io.StringIO(text))
    header = {h.strip().lower(): h for h in reader.fieldnames or []}
    missing = [c for c in ("date", "amount", "reference") if c not in header]
    if missing:
        raise InvalidInput(
            f"statement CSV lacks column {missing[0]!r} (needs date, amount, reference)",
            code=AccountingCode.STATEMENT_INVALID,
            errors=[FieldError("/header", f"missing {missing[0]}")],
        )
    lines = []
    for number, row in enumerate(reader, start=1):
        if number > MAX_LINES:
            raise InvalidInput(
                f"statement has more than {MAX_LINES} lines", code=AccountingCode.STATEMENT_INVALID
            )
        raw_date = (row.get(header["date"]) or "").strip()
        try:
            when = date.fromisoformat(raw_date[:10])
        except ValueError:
            raise InvalidInput(
                f"statement line {number}: date {raw_date!r} is not YYYY-MM-DD",
                code=AccountingCode.STATEMENT_INVALID,
                errors=[FieldError(f"/lines/{number}/date", "expected YYYY-MM-DD")],
            ) from None
        amount = _parse_amount(row.get(header["amount"]) or "", digits, number)
        reference = (row.get(header["reference"]) or "").strip()
        lines.append(StatementLine(number, when, amount, reference))
    return lines


def signed(account: Account, t: Transfer) -> int:
    """The transfer as the account's statement shows it: + grows the normal balance."""
    debit = t.debit_account_id == account.id
    return t.amount if debit == account.code.debit_normal else -t.amount


def match(
    account: Account, lines: list[StatementLine], transfers: list[Transfer], window_days: int
) -> dict[str, Any]:
    open_transfers = {t.id: t for t in transfers}
    by_reference: dict[str, str] = {}
    for t in transfers:
        by_reference.setdefault(t.id, t.id)
        ref = t.metadata.get("reference")
        if isinstance(ref, str) and ref:
            by_reference.setdefault(ref, t.id)
    matched: list[dict[str, Any]] = []
    pending: list[StatementLine] = []
    for line in lines:
        tid = by_reference.get(line.reference) if line.reference else None
        if tid is not None and tid in open_transfers:
            t = open_transfers.pop(tid)
            matched.append(
                {
                    "line": line.line,
                    "transfer_id": t.id,
                    "method": "reference",
                    "amount_difference": line.amount - signed(account, t),
                }
            )
        else:
            pending.append(line)
    unmatched_lines = []
    window = timedelta(days=window_days)
    for line in pending:
        candidates = [
            t
            for t in open_transfers.values()
            if signed(account, t) == line.amount and abs(t.timestamp.date() - line.date) <= window
        ]
        if not candidates:
            unmatched_lines.append(
                {
                    "line": line.line,
                    "amount": line.amount,
                    "reference": line.reference,
                    "date": line.date.isoformat(),
                }
            )
            continue
        best = min(
            candidates, key=lambda t: (abs(t.timestamp.date() - line.date), t.timestamp, t.id)
        )
        del open_transfers[best.id]
        matched.append(
            {
                "line": line.line,
                "transfer_id": best.id,
                "method": "amount_date",
                "amount_difference": 0,
            }
        )
    statement_total = sum(x.amount for x in lines)
    ledger_total = sum(signed(account, t) for t in transfers)
    return {
        "matched": matched,
        "unmatched_statement_lines": unmatched_lines,
        "unmatched_transfers": [
            {"transfer_id": t.id, "amount": signed(account, t), "timestamp": isoformat(t.timestamp)}
            for t in sorted(open_transfers.values(), key=lambda t: (t.timestamp, t.id))
        ],
        "statement_total": statement_total,
        "ledger_total": ledger_total,
        "difference": statement_total - ledger_total,
    }


class Reconciler:
    def __init__(self, accounting: AccountingService) -> None:
        self.accounting = accounting

    def reconcile(
        self, tenant_id: str, account_id: str, statement_csv: str, *, window_days: int = 3
    ) -> dict[str, Any]:
        if not 0 <= window_days <= 31:
            raise InvalidInput(
                "window_days must be between 0 and 31",
                errors=[FieldError("/window_days", "0 to 31")],
            )
        account = self.accounting.get_account(tenant_id, account_id)
        lines = parse_statement(statement_csv, account.ledger)
        if not lines:
            raise InvalidInput("the statement has no lines", code=AccountingCode.STATEMENT_INVALID)
        start = min(x.date for x in lines) - timedelta(days=window_days)
        end = max(x.date for x in lines) + timedelta(days=window_days + 1)
        with self.accounting.store.reading() as session:
            history = session.account_transfers(tenant_id, account_id)
        transfers = [
            t
            for t in history
            if t.state is TransferState.POSTED
            and not t.flags.pending
            and start <= t.timestamp.date() < end
        ]
        report = match(account, lines, transfers, window_days)
        reconciliation_id = new_id()
        now = self.accounting.clock.now()
        report = {
            "id": reconciliation_id,
            "account_id": account_id,
            "ledger": account.ledger,
            "recorded_at": isoformat(now),
            "statement_digest": "sha256:" + hashlib.sha256(statement_csv.encode()).hexdigest(),
            "period": {"from": start.isoformat(), "to": (end - timedelta(days=1)).isoformat()},
            "window_days": window_days,
            "lines": len(lines),
            **report,
        }
        # Recorded as decimal strings, like transfer amounts (RFC 8785 numbers are doubles).
        payload = {
            **report,
            "statement_total": str(report["statement_total"]),
            "ledger_total": str(report["ledger_total"]),
            "difference": str(report["difference"]),
            "unmatched_statement_lines": [
                {**x, "amount": str(x["amount"])} for x in report["unmatched_statement_lines"]
            ],
            "unmatched_transfers": [
                {**x, "amount": str(x["amount"])} for x in report["unmatched_transfers"]
            ],
            "matched": [
                {**x, "amount_difference": str(x["amount_difference"])} for x in report["matched"]
            ],
        }

        self.accounting.seal(
            [LedgerRecord("reconciliation", reconciliation_id, tenant_id, payload)]
        )
        return report

    def get(self, tenant_id: str, reconciliation_id: str) -> dict[str, Any]:
        entries = [
            e
            for e in self.accounting.ledger.history(reconciliation_id, tenant_id=tenant_id)
            if e.kind == "reconciliation"
        ]
        if not entries:
            raise NotFound(
                f"reconciliation {reconciliation_id} not found",
                code=AccountingCode.RECONCILIATION_NOT_FOUND,
            )
        return dict(entries[-1].payload)
