"""The nouns of screening and KYC: list entries, snapshots, queries, hits, KYC status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from paygod.compliance.errors import ComplianceCode
from paygod.kernel.errors import InvalidInput

LISTS = ("ofac", "eu", "un", "uk")
# format -> the list it feeds
FORMATS = {
    "ofac-xml": "ofac",
    "ofac-csv": "ofac",
    "eu-xml": "eu",
    "un-xml": "un",
    "uk-csv": "uk",
}
DEFAULT_THRESHOLD = 0.85


class ListFormatError(InvalidInput):
    """A list file that cannot be read: `entry` is the 1-based position of the entry that
    failed (0 when the file itself is unreadable)."""

    code: ClassVar[StrEnum] = ComplianceCode.LIST_PARSE_ERROR
    title = "The list file does not parse"

    def __init__(self, detail: str, *, entry: int = 0, where: str = "") -> None:
        from paygod.kernel.errors import FieldError

        place = f"entry {entry}" if entry else "file"
        message = f"{place}{' (' + where + ')' if where else ''}: {detail}"
        super().__init__(message, errors=[FieldError(f"/entries/{max(entry - 1, 0)}", detail)])
        self.entry = entry


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One designation as the list publishes it. `names[0]` is the primary name; the
    rest are aliases (a.k.a., f.k.a., non-Latin spellings). Dates of birth are kept as
    published prefixes (`1952`, `1952-10`, `1952-10-07`); countries as ISO 3166 alpha-2."""

    list: str
    entry_id: str
    reference: str | None
    kind: str  # individual | entity | vessel | aircraft
    names: tuple[str, ...]
    dobs: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "list": self.list,
            "entry_id": self.entry_id,
            "reference": self.reference,
            "kind": self.kind,
            "names": list(self.names),
            "dobs": list(self.dobs),
            "countries": list(self.countries),
            "programs": list(self.programs),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ListEntry:
        return cls(
            list=str(data["list"]),
            entry_id=str(data["entry_id"]),
            reference=data.get("reference"),
            kind=str(data.get("kind") or "individual"),
            names=tuple(data.get("names") or ()),
            dobs=tuple(data.get("dobs") or ()),
            countries=tuple(data.get("countries") or ()),
            programs=tuple(data.get("programs") or ()),
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One imported version of one list for one tenant; `active` is the one screened."""

    snapshot_id: str
    tenant_id: str
    list: str
    format: str
    source: str
    digest: str
    entry_count: int
    version: int
    imported_at: datetime
    active: bool = True
    seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        from paygod.kernel.clock import isoformat

        return {
            "snapshot_id": self.snapshot_id,
            "tenant_id": self.tenant_id,
            "list": self.list,
            "format": self.format,
            "source": self.source,
            "digest": self.digest,
            "entry_count": self.entry_count,
            "version": self.version,
            "imported_at": isoformat(self.imported_at),
            "active": self.active,
            "seq": self.seq,
        }


@dataclass(frozen=True, slots=True)
class ScreeningQuery:
    name: str
    dob: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD
    country: str | None = None  # ISO 3166 alpha-2

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dob": self.dob, "country": self.country}


@dataclass(frozen=True, slots=True)
class Hit:
    list: str
    entry_id: str
    reference: str | None
    name: str  # the list's name variant that matched
    score: float
    name_score: float = 0.0
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "list": self.list,
            "entry_id": self.entry_id,
            "reference": self.reference,
            "name": self.name,
            "score": self.score,
        }

    def evidence(self) -> dict[str, Any]:
        return {**self.as_dict(), "name_score": self.name_score, "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    decision: str  # hit | no-hit
    hits: tuple[Hit, ...]
    threshold: float
    snapshots: tuple[str, ...] = ()
    candidates: tuple[Hit, ...] = field(default=())  # below threshold, kept for evidence

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "hits": [h.as_dict() for h in self.hits]}


class KycLevel(StrEnum):
    NONE = "none"
    BASIC = "basic"
    FULL = "full"


KYC_RANK = {KycLevel.NONE: 0, KycLevel.BASIC: 1, KycLevel.FULL: 2}


@dataclass(frozen=True, slots=True)
class KycStatus:
    """A subject's KYC as last recorded. `effective_level` is what packs read: an expired
    verification counts as none."""

    tenant_id: str
    subject: str
    level: KycLevel
    status: str  # verified | pending | rejected | expired | none
    provider: str | None = None
    reference: str | None = None
    verified_at: datetime | None = None
    expires_at: datetime | None = None
    seq: int | None = None

    def effective_level(self, now: datetime) -> KycLevel:
        if self.status != "verified":
            return KycLevel.NONE
        if self.expires_at is not None and now >= self.expires_at:
            return KycLevel.NONE
        return self.level

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        from paygod.kernel.clock import isoformat

        out: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "subject": self.subject,
            "level": self.level.value,
            "status": self.status,
            "provider": self.provider,
            "reference": self.reference,
            "verified_at": isoformat(self.verified_at) if self.verified_at else None,
            "expires_at": isoformat(self.expires_at) if self.expires_at else None,
            "seq": self.seq,
        }
        if now is not None:
            out["effective_level"] = self.effective_level(now).value
        return out
