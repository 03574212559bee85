"""Branches, tills and the end-of-day count, in domain words.

A branch has a vault (an asset account: the cash it holds) and an over/short account (an
expense: what end-of-day counts found missing, less what they found extra). A till is an
asset account of its branch with a cash limit. All three are ordinary accounts of the
accounting module, with ids derived from the branch and till, so every movement of cash is
an ordinary transfer, sealed in the ledger like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODULE = "cash"  # transfers this module makes are owned by it (accounting.model.OWNER_KEY)


def vault_id(branch: str) -> str:
    return f"cash.{branch}.vault"


def over_short_id(branch: str) -> str:
    return f"cash.{branch}.over_short"


def till_id(branch: str, till: str) -> str:
    return f"cash.{branch}.till.{till}"


@dataclass(frozen=True, slots=True)
class Till:
    branch: str
    till: str
    account_id: str
    ledger: str
    cash_limit: int
    balance: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "till": self.till,
            "account_id": self.account_id,
            "ledger": self.ledger,
            "cash_limit": self.cash_limit,
            "balance": self.balance,
        }


@dataclass(frozen=True, slots=True)
class Branch:
    branch: str
    ledger: str
    vault_account_id: str
    vault_balance: int
    over_short_account_id: str
    over_short_balance: int
    tills: tuple[Till, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "ledger": self.ledger,
            "vault": {"account_id": self.vault_account_id, "balance": self.vault_balance},
            "over_short": {
                "account_id": self.over_short_account_id,
                "balance": self.over_short_balance,
            },
            "tills": [t.as_dict() for t in self.tills],
        }


@dataclass(frozen=True, slots=True)
class TillCount:
    """An end-of-day count: what the teller declared against the book balance; a
    difference is posted to the branch's over/short account (`transfer_id`)."""

    branch: str
    till: str
    declared: int
    book: int
    transfer_id: str | None

    @property
    def difference(self) -> int:
        return self.declared - self.book

    def as_dict(self) -> dict[str, Any]:
        d = self.difference
        return {
            "branch": self.branch,
            "till": self.till,
            "declared": self.declared,
            "book": self.book,
            "difference": d,
            "result": "balanced" if d == 0 else ("over" if d > 0 else "short"),
            "transfer_id": self.transfer_id,
        }
