"""SEPA credit transfer files: one pain.001.001.03 document per payment.

The XML is built by `sepaxml` and validated against the ISO 20022 schema it ships
before anything is written; IBAN and BIC are checked with `schwifty` first, so a bad
account is refused (RailRefused) instead of producing a file the bank rejects. Files are
written atomically (temp + rename) and named by payment id, which makes `send`
idempotent: a second send of the same payment finds the file and writes nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from paygod.kernel.files import replace_durably
from paygod.payments.model import PaymentInstruction, RailReceipt, RailRefused

SCHEMA = "pain.001.001.03"


def check_iban(value: str) -> IBAN:
    try:
        return IBAN(value)
    except SchwiftyException as exc:
        raise RailRefused(f"invalid IBAN: {exc}") from exc


def check_bic(value: str) -> BIC:
    try:
        return BIC(value)
    except SchwiftyException as exc:
        raise RailRefused(f"invalid BIC: {exc}") from exc


class SepaFileRail:
    name = "sepa_credit"

    def __init__(self, out_dir: Path, *, debtor_name: str, debtor_iban: str, debtor_bic: str):
        self.out_dir = out_dir
        self.debtor_name = debtor_name
        self.debtor_iban = check_iban(debtor_iban)
        self.debtor_bic = check_bic(debtor_bic)

    def path_for(self, key: str) -> Path:
        safe = "".join(c for c in key if c.isalnum() or c in "-_")
        return self.out_dir / f"{safe}.xml"

    def build(self, instruction: PaymentInstruction, *, execution_date: date) -> bytes:
        from sepaxml import SepaTransfer

        if instruction.currency != "EUR":
            raise RailRefused(f"SEPA credit transfers are in EUR, not {instruction.currency}")
        payee: dict[str, Any] = dict(instruction.payee)
        iban = check_iban(str(payee.get("iban", "")))
        bic = check_bic(str(payee["bic"])) if payee.get("bic") else iban.bic
        if bic is None:
            raise RailRefused("payee BIC is missing and cannot be derived from the IBAN")
        config = {
            "name": self.debtor_name[:70],
            "IBAN": self.debtor_iban.compact,
            "BIC": str(self.debtor_bic),
            "batch": False,
            "currency": "EUR",
        }
        transfer = SepaTransfer(config, schema=SCHEMA, clean=True)
        transfer.add_payment(
            {
                "name": str(payee.get("name") or "Payee")[:70],
                "IBAN": iban.compact,
                "BIC": str(bic),
                "amount": instruction.amount,
                "execution_date": execution_date,
                "description": instruction.purpose[:140] or "payment",
                "endtoend_id": instruction.key.replace("-", "")[:35],
            }
        )
        try:
            xml: bytes = transfer.export(validate=True)
        except Exception as exc:  # sepaxml raises its own ValidationError or plain Exception
            raise RailRefused(f"pain.001 does not validate: {exc}") from exc
        return xml

    def send(self, instruction: PaymentInstruction) -> RailReceipt:
        target = self.path_for(instruction.key)
        if target.exists():
            return RailReceipt(self.name, instruction.key, "accepted", target.name)
        xml = self.build(instruction, execution_date=date.today())
        self.out_dir.mkdir(parents=True, exist_ok=True)
        replace_durably(target, xml)
        return RailReceipt(self.name, instruction.key, "accepted", target.name)

    def lookup(self, idempotency_key: str) -> RailReceipt | None:
        target = self.path_for(idempotency_key)
        if not target.exists():
            return None
        return RailReceipt(self.name, idempotency_key, "accepted", target.name)
