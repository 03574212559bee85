"""Mandates: what a human principal allows an agent principal to spend, and how.

A mandate is *open* (constraints the agent acts within) or *closed* (the human confirmed
exactly one merchant-signed checkout: `checkout_hash`, or one payment: `transaction_id`).
Its form is `native` (granted through Paygod, signed with the grantor's registered key)
or `ap2` (an AP2 v0.2 SD-JWT credential chain, imported). Every amount is an integer in
minor units of `currency` (its ISO 4217 exponent); budget state lives in accounting
accounts (allowance.py), never in this object.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from paygod.kernel.clock import isoformat, parse_instant


class MandateStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Constraints:
    currency: str
    budget: int  # the total the agent may spend under this mandate, minor units
    max_per_payment: int | None = None
    period: Period | None = None
    per_period: int | None = None
    merchants: tuple[str, ...] = ()  # empty: any merchant
    categories: tuple[str, ...] = ()  # empty: any category
    rails: tuple[str, ...] = ()  # empty: any rail
    not_before: datetime | None = None
    not_after: datetime | None = None
    max_payments: int | None = None  # recurrence: how many payments in all
    single_use: bool = False
    checkout_hash: str | None = None  # closed checkout mandate
    transaction_id: str | None = None  # closed payment mandate
    payee: str | None = None  # closed: the one merchant

    @property
    def payment_cap(self) -> int | None:
        """How many payments may ever be made (single use is one)."""
        return 1 if self.single_use else self.max_payments

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"currency": self.currency, "budget_minor": self.budget}
        optional = {
            "max_per_payment_minor": self.max_per_payment,
            "period": self.period.value if self.period else None,
            "per_period_minor": self.per_period,
            "not_before": isoformat(self.not_before) if self.not_before else None,
            "not_after": isoformat(self.not_after) if self.not_after else None,
            "max_payments": self.max_payments,
            "checkout_hash": self.checkout_hash,
            "transaction_id": self.transaction_id,
            "payee": self.payee,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        for name in ("merchants", "categories", "rails"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        if self.single_use:
            out["single_use"] = True
        return out

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Constraints:
        def instant(name: str) -> datetime | None:
            return parse_instant(doc[name]) if doc.get(name) else None

        return cls(
            currency=doc["currency"],
            budget=doc["budget_minor"],
            max_per_payment=doc.get("max_per_payment_minor"),
            period=Period(doc["period"]) if doc.get("period") else None,
            per_period=doc.get("per_period_minor"),
            merchants=tuple(doc.get("merchants", ())),
            categories=tuple(doc.get("categories", ())),
            rails=tuple(doc.get("rails", ())),
            not_before=instant("not_before"),
            not_after=instant("not_after"),
            max_payments=doc.get("max_payments"),
            single_use=bool(doc.get("single_use", False)),
            checkout_hash=doc.get("checkout_hash"),
            transaction_id=doc.get("transaction_id"),
            payee=doc.get("payee"),
        )


@dataclass(frozen=True)
class Mandate:
    mandate_id: str
    tenant_id: str
    grantor: str  # the human principal who allowed it
    grantee: str  # the agent principal who may act on it
    kind: str  # "payment" | "checkout"
    mode: str  # "open" | "closed"
    form: str  # "native" | "ap2"
    constraints: Constraints
    digest: str  # sha256 of the credential as presented (AP2) or of the signed grant
    credential: dict[str, Any]  # what was verified: the signed grant, or the AP2 chain
    granted_at: datetime
    status: MandateStatus = MandateStatus.ACTIVE
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revocation_reason: str | None = None
    key_id: str | None = None  # the grantor key that signed it
    seq: int | None = field(default=None, compare=False)

    def revoked(self, at: datetime, by: str, reason: str) -> Mandate:
        return replace(
            self,
            status=MandateStatus.REVOKED,
            revoked_at=at,
            revoked_by=by,
            revocation_reason=reason,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "mandate_id": self.mandate_id,
            "tenant_id": self.tenant_id,
            "grantor": self.grantor,
            "grantee": self.grantee,
            "kind": self.kind,
            "mode": self.mode,
            "form": self.form,
            "constraints": self.constraints.as_dict(),
            "digest": self.digest,
            "credential": self.credential,
            "granted_at": isoformat(self.granted_at),
            "status": self.status.value,
            "revoked_at": isoformat(self.revoked_at) if self.revoked_at else None,
            "revoked_by": self.revoked_by,
            "revocation_reason": self.revocation_reason,
            "key_id": self.key_id,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Mandate:
        return cls(
            mandate_id=doc["mandate_id"],
            tenant_id=doc["tenant_id"],
            grantor=doc["grantor"],
            grantee=doc["grantee"],
            kind=doc["kind"],
            mode=doc["mode"],
            form=doc["form"],
            constraints=Constraints.from_dict(doc["constraints"]),
            digest=doc["digest"],
            credential=doc["credential"],
            granted_at=parse_instant(doc["granted_at"]),
            status=MandateStatus(doc["status"]),
            revoked_at=parse_instant(doc["revoked_at"]) if doc.get("revoked_at") else None,
            revoked_by=doc.get("revoked_by"),
            revocation_reason=doc.get("revocation_reason"),
            key_id=doc.get("key_id"),
        )


@dataclass(frozen=True)
class PrincipalKey:
    """A public key a principal registered: humans sign grants with it (native mandates and
    AP2 root credentials, by `key_id`); agents prove holder binding and sign HTTP requests."""

    tenant_id: str
    principal_id: str
    key_id: str
    jwk: dict[str, str]
    thumbprint: str
    registered_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "principal_id": self.principal_id,
            "key_id": self.key_id,
            "jwk": self.jwk,
            "thumbprint": self.thumbprint,
            "registered_at": isoformat(self.registered_at),
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> PrincipalKey:
        return cls(
            tenant_id=doc["tenant_id"],
            principal_id=doc["principal_id"],
            key_id=doc["key_id"],
            jwk=dict(doc["jwk"]),
            thumbprint=doc["thumbprint"],
            registered_at=parse_instant(doc["registered_at"]),
        )


@dataclass(frozen=True)
class PaymentUnderMandate:
    """What a payment asks of its mandate (the facts checked and held against it)."""

    mandate_id: str
    tenant_id: str
    agent: str
    amount: int
    currency: str
    merchant: str | None
    category: str | None
    rail: str | None
    transaction_id: str | None = None
    checkout_hash: str | None = None
