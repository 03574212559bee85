"""A simulated credit bureau: deterministic by applicant fixtures, failure injectable."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from paygod.canonical import digest
from paygod.credit.ports import BureauReport, BureauUnavailable
from paygod.credit.providers import Provider, ProviderUnavailable, SimulatedProvider

# Named applicants with known files, for demos and tests; any other reference gets a file
# derived from its hash (the same reference, the same file, every run).
FIXTURES: Mapping[str, Mapping[str, Any]] = {
    "urn:applicant:prime": {
        "score": 790,
        "monthly_debt": 40_000,
        "utilization": 12,
        "delinquencies_24m": 0,
        "inquiries_6m": 0,
        "months_on_file": 180,
        "bankruptcy": False,
    },
    "urn:applicant:near-prime": {
        "score": 680,
        "monthly_debt": 90_000,
        "utilization": 45,
        "delinquencies_24m": 1,
        "inquiries_6m": 2,
        "months_on_file": 60,
        "bankruptcy": False,
    },
    "urn:applicant:thin-file": {
        "score": 610,
        "monthly_debt": 10_000,
        "utilization": 85,
        "delinquencies_24m": 0,
        "inquiries_6m": 5,
        "months_on_file": 8,
        "bankruptcy": False,
    },
    "urn:applicant:subprime": {
        "score": 540,
        "monthly_debt": 150_000,
        "utilization": 95,
        "delinquencies_24m": 4,
        "inquiries_6m": 7,
        "months_on_file": 30,
        "bankruptcy": True,
    },
}


class SimulatedBureau:
    def __init__(self, *, unavailable: frozenset[str] = frozenset()) -> None:
        self.unavailable = unavailable  # references whose pull times out
        self.calls = 0

    def report(self, applicant_ref: str) -> BureauReport:
        self.calls += 1
        if applicant_ref in self.unavailable:
            raise BureauUnavailable(f"bureau timeout for {applicant_ref}")
        raw = dict(FIXTURES.get(applicant_ref) or _derived(applicant_ref))
        return BureauReport(applicant_ref=applicant_ref, raw_digest=digest(raw), raw=raw, **raw)


def _derived(applicant_ref: str) -> dict[str, Any]:
    seed = hashlib.sha256(applicant_ref.encode()).digest()
    return {
        "score": 500 + seed[0] * 350 // 255,
        "monthly_debt": seed[1] * 1_000,
        "utilization": seed[2] * 100 // 255,
        "delinquencies_24m": seed[3] % 4,
        "inquiries_6m": seed[4] % 6,
        "months_on_file": 6 + seed[5],
        "bankruptcy": seed[6] < 8,
    }


class ProviderBureau:
    """The `CreditBureau` port over any `Provider` (simulated or HTTP): the raw answer's
    known fields are the features; the whole answer is digested and kept for the vault."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def report(self, applicant_ref: str) -> BureauReport:
        try:
            raw = self.provider.fetch(applicant_ref)
        except ProviderUnavailable as exc:
            raise BureauUnavailable(str(exc)) from None
        features = {name: raw[name] for name in FEATURES}
        return BureauReport(
            applicant_ref=applicant_ref, raw_digest=digest(raw), raw=raw, **features
        )


FEATURES = (
    "score",
    "monthly_debt",
    "utilization",
    "delinquencies_24m",
    "inquiries_6m",
    "months_on_file",
    "bankruptcy",
)


def simulated_bureau_provider(**options: Any) -> SimulatedProvider:
    return SimulatedProvider("bureau", _derived, FIXTURES, **options)


# KYC answers: the verified name (screened next, then kept in the vault only).
KYC_FIXTURES: Mapping[str, Mapping[str, Any]] = {
    "urn:applicant:unverified": {"status": "rejected", "level": "none", "reason": "document"},
    "urn:applicant:sanctioned": {
        "status": "verified",
        "level": "basic",
        "name": "Vladimir Vladimirovich Putin",
    },
}
ACCOUNT_FIXTURES: Mapping[str, Mapping[str, Any]] = {
    "urn:applicant:closed-account": {"status": "closed"},
}


def _kyc(applicant_ref: str) -> dict[str, Any]:
    tag = hashlib.sha256(applicant_ref.encode()).hexdigest()[:12]
    return {"status": "verified", "level": "basic", "name": f"Applicant {tag}", "reference": tag}


def _account(applicant_ref: str) -> dict[str, Any]:
    return {"status": "verified", "method": "simulated-open-banking"}


def simulated_kyc(**options: Any) -> SimulatedProvider:
    return SimulatedProvider("kyc", _kyc, KYC_FIXTURES, **options)


def simulated_account(**options: Any) -> SimulatedProvider:
    return SimulatedProvider("account", _account, ACCOUNT_FIXTURES, **options)
