"""Which permission each /v1 route needs: one declarative table, keyed by route template.

A /v1 route missing from this table is open to platform admins only (deny by default), so a
route added without an entry is safe until someone decides who may call it.
`AUTHENTICATED` routes are open to any authenticated principal (about itself).
"""

from __future__ import annotations

from collections.abc import Mapping

AUTHENTICATED = "authenticated"

# Routes mounted outside the authenticated /v1 router on purpose: they carry their own
# credential (a partner's HMAC signature) and are listed here so the route walk knows.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {("POST", "/v1/payments/webhooks/{rail}"), ("POST", "/v1/kyc/webhooks/{provider}")}
)

ROUTE_PERMISSIONS: Mapping[tuple[str, str], str] = {
    # identity
    ("GET", "/v1/identity/me"): AUTHENTICATED,
    ("POST", "/v1/identity/sessions"): AUTHENTICATED,
    ("POST", "/v1/identity/me/totp"): AUTHENTICATED,
    ("POST", "/v1/identity/me/totp/confirm"): AUTHENTICATED,
    ("GET", "/v1/identity/tenants"): "identity:read",
    ("POST", "/v1/identity/tenants"): "tenants:manage",
    ("GET", "/v1/identity/principals"): "identity:read",
    ("POST", "/v1/identity/principals"): "identity:manage",
    ("GET", "/v1/identity/principals/{principal_id}"): "identity:read",
    ("PUT", "/v1/identity/principals/{principal_id}/roles"): "identity:manage",
    ("POST", "/v1/identity/principals/{principal_id}/disable"): "identity:manage",
    ("POST", "/v1/identity/principals/{principal_id}/keys"): "identity:manage",
    ("POST", "/v1/identity/principals/{principal_id}/totp-enrolment"): "identity:manage",
    ("GET", "/v1/identity/keys"): "identity:read",
    ("POST", "/v1/identity/keys/{key_id}/rotate"): "identity:manage",
    ("DELETE", "/v1/identity/keys/{key_id}"): "identity:manage",
    ("POST", "/v1/identity/consents"): "consent:write",
    ("GET", "/v1/identity/consents/{subject}"): "consent:read",
    ("DELETE", "/v1/identity/consents/{subject}/{purpose}"): "consent:write",
    ("GET", "/v1/identity/access-log"): "audit:read",
    # continuous authentication (docs/contauth.md): a session's owner sends its signals
    ("POST", "/v1/identity/sessions/{session_id}/signals"): AUTHENTICATED,
    ("GET", "/v1/identity/sessions/{session_id}/trust"): "contauth:read",
    ("GET", "/v1/contauth/thresholds"): "contauth:read",
    ("PUT", "/v1/contauth/thresholds"): "contauth:manage",
    ("GET", "/v1/contauth/models/{principal_id}"): "contauth:read",
    # ledger (reads by humans are access-audited)
    ("GET", "/v1/ledger/entries"): "ledger:read",
    ("GET", "/v1/ledger/entries/{seq}"): "ledger:read",
    ("GET", "/v1/ledger/subjects/{subject}"): "ledger:read",
    ("GET", "/v1/ledger/head"): "ledger:global",
    ("GET", "/v1/ledger/proofs/inclusion/{seq}"): "ledger:verify",
    ("GET", "/v1/ledger/proofs/consistency"): "ledger:global",
    ("GET", "/v1/ledger/public-key"): "ledger:verify",
    # projections: a position is the shared ledger's size (platform admins only)
    ("GET", "/v1/projections"): "ledger:global",
    ("GET", "/v1/projections/{name}"): "ledger:global",
    # decisions and packs
    ("POST", "/v1/decisions"): "decisions:create",
    ("GET", "/v1/decisions/{decision_id}"): "decisions:read",
    ("GET", "/v1/decisions"): "decisions:read",
    ("POST", "/v1/decisions/{decision_id}/replay"): "decisions:read",
    ("GET", "/v1/packs"): "packs:read",
    ("POST", "/v1/packs/{name}/evaluate"): "decisions:create",
    # the promotion pipeline (docs/packs.md): moves need a fresh TOTP code from a human
    ("GET", "/v1/packs/pipeline"): "packs:read",
    ("GET", "/v1/packs/{name}/pipeline"): "packs:read",
    ("GET", "/v1/packs/{name}/diff"): "packs:read",
    ("POST", "/v1/packs/bundles"): "packs:activate",
    ("POST", "/v1/packs/{name}/promote"): "packs:activate",
    ("POST", "/v1/packs/{name}/canary"): "packs:activate",
    ("POST", "/v1/packs/{name}/rollback"): "packs:activate",
    ("POST", "/v1/packs/{name}/outcomes"): "packs:activate",
    # actions (docs/actions.md): a decision's side effect and the webhook allowlist
    ("GET", "/v1/decisions/{decision_id}/action"): "decisions:read",
    ("POST", "/v1/decisions/{decision_id}/action/approve"): "actions:approve",
    ("POST", "/v1/decisions/{decision_id}/action/reject"): "actions:approve",
    ("GET", "/v1/actions/destinations"): "actions:read",
    ("GET", "/v1/actions/destinations/{name}"): "actions:read",
    ("PUT", "/v1/actions/destinations/{name}"): "actions:manage",
    ("DELETE", "/v1/actions/destinations/{name}"): "actions:manage",
    # executor / panic switch
    ("GET", "/v1/admin/panic"): "panic:read",
    ("POST", "/v1/admin/panic"): "panic:write",
    ("GET", "/v1/executor/dead"): "executor:read",
    ("POST", "/v1/executor/dead/{event_id}/retry"): "executor:operate",
    ("POST", "/v1/executor/dead/{event_id}/discard"): "executor:operate",
    ("GET", "/v1/overview"): "executor:read",
    # payments
    ("POST", "/v1/payments/quote"): "payments:create",
    ("POST", "/v1/payments"): "payments:create",
    ("GET", "/v1/payments/{payment_id}"): "payments:read",
    ("GET", "/v1/payments"): "payments:read",
    ("POST", "/v1/payments/{payment_id}/approve"): "payments:approve",
    ("POST", "/v1/payments/{payment_id}/reject"): "payments:approve",
    # compliance: sanctions screening and KYC
    ("POST", "/v1/screening"): "screening:create",
    ("GET", "/v1/screening/threshold"): "screening:read",
    ("PUT", "/v1/screening/threshold"): "sanctions:manage",
    ("GET", "/v1/screening/{screening_id}"): "screening:read",
    ("GET", "/v1/sanctions/snapshots"): "screening:read",
    ("POST", "/v1/kyc/checks"): "kyc:write",
    ("GET", "/v1/kyc/subjects/{subject}"): "kyc:read",
    ("POST", "/v1/kyc/subjects/{subject}/refresh"): "kyc:write",
    # accounting
    ("POST", "/v1/accounts"): "accounts:write",
    ("GET", "/v1/accounts"): "accounts:read",
    ("GET", "/v1/accounts/{account_id}"): "accounts:read",
    ("POST", "/v1/accounts/{account_id}/close"): "accounts:write",
    ("GET", "/v1/accounts/{account_id}/balance"): "accounts:read",
    ("GET", "/v1/accounts/{account_id}/statement"): "accounts:read",
    ("GET", "/v1/accounts/{account_id}/statement-proof"): "accounts:read",
    ("POST", "/v1/periods"): "accounts:write",
    ("GET", "/v1/periods/{period}"): "reports:read",
    ("POST", "/v1/cash/branches"): "accounts:write",
    ("GET", "/v1/cash/branches/{branch}"): "reports:read",
    ("POST", "/v1/cash/branches/{branch}/tills"): "accounts:write",
    ("POST", "/v1/cash/branches/{branch}/tills/{till}/count"): "accounts:write",
    ("POST", "/v1/cash/deposits"): "accounts:write",
    ("POST", "/v1/cash/withdrawals"): "accounts:write",
    ("POST", "/v1/cash/vault-transfers"): "accounts:write",
    ("POST", "/v1/transfers"): "accounts:write",
    ("GET", "/v1/transfers"): "accounts:read",
    ("GET", "/v1/transfers/{transfer_id}"): "accounts:read",
    ("POST", "/v1/transfers/{transfer_id}/post"): "accounts:write",
    ("POST", "/v1/transfers/{transfer_id}/void"): "accounts:write",
    ("POST", "/v1/transfers/{transfer_id}/reverse"): "accounts:write",
    ("GET", "/v1/reports/trial-balance"): "reports:read",
    ("GET", "/v1/reports/audit"): "reports:read",
    ("POST", "/v1/reconciliations"): "accounts:write",
    ("GET", "/v1/reconciliations/{reconciliation_id}"): "reports:read",
    ("GET", "/v1/credits/balance"): "accounts:read",
    ("PUT", "/v1/credits/threshold"): "accounts:write",
    ("POST", "/v1/credits/purchase"): "accounts:write",
    ("POST", "/v1/credits/consume"): "credits:use",
    ("POST", "/v1/credits/reservations"): "credits:use",
    ("POST", "/v1/credits/reservations/{reservation_id}/commit"): "credits:use",
    ("POST", "/v1/credits/reservations/{reservation_id}/cancel"): "credits:use",
    # credit
    ("GET", "/v1/credit/products"): "credit:read",
    ("POST", "/v1/credit/applications"): "credit:apply",
    ("GET", "/v1/credit/applications"): "credit:read",
    ("GET", "/v1/credit/applications/{application_id}"): "credit:read",
    ("POST", "/v1/credit/applications/{application_id}/accept"): "credit:apply",
    # The applicant (scope `own`) withdraws its own; an admin any of the tenant's.
    ("POST", "/v1/credit/applications/{application_id}/withdraw"): "credit:apply",
    ("POST", "/v1/credit/schedule"): "credit:read",
    ("POST", "/v1/credit/apr"): "credit:read",
    # risk
    ("GET", "/v1/risk/models"): "risk:read",
    ("GET", "/v1/risk/models/{version}"): "risk:read",
    ("POST", "/v1/risk/score"): "risk:read",
    # privacy: the PII vault, erasure, subject access, legal holds, retention
    ("POST", "/v1/compliance/vault/records"): "privacy:write",
    ("GET", "/v1/compliance/vault/records/{record_id}"): "privacy:export",
    ("POST", "/v1/compliance/erasure"): "privacy:erase",
    ("GET", "/v1/compliance/subjects/{subject}/export"): "privacy:export",
    ("GET", "/v1/compliance/holds"): "retention:read",
    ("POST", "/v1/compliance/holds"): "privacy:hold",
    ("DELETE", "/v1/compliance/holds/{subject}"): "privacy:hold",
    ("GET", "/v1/compliance/retention"): "retention:read",
    ("PUT", "/v1/compliance/retention/{data_class}"): "retention:manage",
    ("POST", "/v1/compliance/retention/run"): "retention:manage",
    # assurance (docs/assurance.md)
    ("GET", "/v1/compliance/reports/{kind}"): "compliance:report",
    # mandates
    ("POST", "/v1/mandates/keys"): "mandates:keys",
    ("GET", "/v1/mandates/keys"): "mandates:read",
    ("POST", "/v1/mandates"): "mandates:grant",
    ("POST", "/v1/mandates/import"): "mandates:grant",
    ("GET", "/v1/mandates"): "mandates:read",
    ("GET", "/v1/mandates/{mandate_id}"): "mandates:read",
    ("POST", "/v1/mandates/{mandate_id}/revoke"): "mandates:revoke",
    # notifications
    ("POST", "/v1/notifications/subscriptions"): "notifications:manage",
    ("GET", "/v1/notifications/subscriptions"): "notifications:read",
    ("DELETE", "/v1/notifications/subscriptions/{subscription_id}"): "notifications:manage",
    ("POST", "/v1/notifications/subscriptions/{subscription_id}/test"): "notifications:manage",
    ("GET", "/v1/notifications/deliveries"): "notifications:read",
    ("GET", "/v1/notifications/inbox"): "inbox:read",
    ("POST", "/v1/notifications/inbox/{message_id}/read"): "inbox:read",
    # documents
    ("POST", "/v1/documents"): "documents:write",
    ("GET", "/v1/documents"): "documents:read",
    ("GET", "/v1/documents/{document_id}"): "documents:read",
    ("GET", "/v1/documents/{document_id}/content"): "documents:download",
    # cases
    ("GET", "/v1/cases"): "cases:read",
    ("POST", "/v1/cases"): "cases:write",
    ("GET", "/v1/cases/{case_id}"): "cases:read",
    ("POST", "/v1/cases/{case_id}/assign"): "cases:write",
    ("POST", "/v1/cases/{case_id}/comments"): "cases:write",
    ("POST", "/v1/cases/{case_id}/close"): "cases:write",
    # aml
    ("GET", "/v1/aml/alerts"): "aml:read",
    ("GET", "/v1/aml/alerts/{alert_id}"): "aml:read",
    ("POST", "/v1/aml/scan"): "aml:manage",
    ("GET", "/v1/aml/thresholds"): "aml:read",
    ("PUT", "/v1/aml/thresholds"): "aml:manage",
    ("GET", "/v1/credit/loans"): "credit:read",
    ("GET", "/v1/credit/loans/{loan_id}"): "credit:read",
    ("POST", "/v1/credit/loans/{loan_id}/disburse"): "credit:operate",
    ("POST", "/v1/credit/loans/{loan_id}/repayments"): "credit:repay",
    ("POST", "/v1/credit/loans/{loan_id}/assess"): "credit:operate",
    ("POST", "/v1/credit/loans/{loan_id}/write-off"): "credit:write-off",
    ("GET", "/v1/credit/portfolio"): "credit:read",
    ("GET", "/v1/credit/lines"): "credit:read",
    ("GET", "/v1/credit/lines/{line_id}"): "credit:read",
    ("POST", "/v1/credit/lines/{line_id}/open"): "credit:operate",
    # The borrower (scope own) or an operator moves money on the line.
    ("POST", "/v1/credit/lines/{line_id}/draws"): "credit:repay",
    ("POST", "/v1/credit/lines/{line_id}/repayments"): "credit:repay",
    ("POST", "/v1/credit/lines/{line_id}/close"): "credit:repay",
}


# Reads that return evidence although their permission is broader (an agent may read its own
# decisions): a human reading them is access-audited like a ledger or report read.
EVIDENCE_ROUTES: frozenset[tuple[str, str]] = frozenset({("GET", "/v1/decisions/{decision_id}")})


def permission_for(method: str, template: str) -> str | None:
    if method == "HEAD":
        method = "GET"
    return ROUTE_PERMISSIONS.get((method, template))
