"""Legal holds and retention: how long each tenant keeps each class of data.

A policy gives a data class a maximum age. A run (scheduled by housekeeping, or by hand)
applies every policy of a tenant: vault subjects whose newest record is older are shredded
(never by editing the ledger), access-log rows and the register of exports are deleted.
A legal hold suspends shredding for its subject. Each run is one `retention.run` entry
with its counts and the URNs it shredded; holds and policies are ledgered too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import FieldError, InvalidInput, NotFound
from paygod.ledger import EntryDraft, LedgerService
from paygod.privacy.errors import PrivacyCode
from paygod.privacy.model import DataClass, LegalHold, RetentionPolicy
from paygod.privacy.ports import AccessLogPurge, PrivacyRegister, VaultStore
from paygod.privacy.service import PrivacyService, require_subject

RUN_KIND = "retention.run"
POLICY_KIND = "retention.policy"
HOLD_KIND = "gdpr.hold"
RELEASE_KIND = "gdpr.release"
SHRED_KIND = "retention.shred"
MAX_DAYS = 36_500
MAX_REASON = 500


class RetentionService:
    def __init__(
        self,
        ledger: LedgerService,
        privacy: PrivacyService,
        vault: VaultStore,
        register: PrivacyRegister,
        clock: Clock,
        purge_access_log: AccessLogPurge | None = None,
    ) -> None:
        self.ledger = ledger
        self.privacy = privacy
        self.vault = vault
        self.register = register
        self.clock = clock
        self.purge_access_log = purge_access_log or (lambda tenant_id, before: 0)

    # -- legal holds ------------------------------------------------------------------------

    def hold(self, tenant_id: str, subject: Any, reason: Any, actor: str) -> LegalHold:
        subject = require_subject(subject)
        if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
            raise InvalidInput(
                "invalid legal hold",
                errors=[FieldError("/reason", f"1-{MAX_REASON} characters saying why")],
            )
        hold = LegalHold(tenant_id, subject, reason, actor, isoformat(self.clock.now()))

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.register.put_hold(conn, hold)
            return None, [EntryDraft(HOLD_KIND, subject, hold.as_dict(), tenant_id=tenant_id)]

        self.ledger.transact(work)
        return hold

    def release(self, tenant_id: str, subject: Any, actor: str) -> dict[str, Any]:
        subject = require_subject(subject)
        if self.register.hold(tenant_id, subject) is None:
            raise NotFound(f"no legal hold on {subject}", code=PrivacyCode.NO_HOLD)
        payload = {"subject": subject, "released_by": actor, "at": isoformat(self.clock.now())}

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.register.drop_hold(conn, tenant_id, subject)
            return None, [EntryDraft(RELEASE_KIND, subject, payload, tenant_id=tenant_id)]

        self.ledger.transact(work)
        return payload

    def holds(self, tenant_id: str) -> list[LegalHold]:
        return self.register.holds(tenant_id)

    # -- policies ---------------------------------------------------------------------------

    def set_policy(
        self, tenant_id: str, data_class: Any, max_age_days: Any, actor: str
    ) -> RetentionPolicy:
        errors = []
        if data_class not in {c.value for c in DataClass}:
            names = ", ".join(c.value for c in DataClass)
            errors.append(FieldError("/data_class", f"one of {names}"))
        if type(max_age_days) is not int or not 1 <= max_age_days <= MAX_DAYS:
            errors.append(FieldError("/max_age_days", f"an integer from 1 to {MAX_DAYS}"))
        if errors:
            raise InvalidInput("invalid retention policy", errors=errors)
        policy = RetentionPolicy(
            tenant_id, DataClass(data_class), max_age_days, actor, isoformat(self.clock.now())
        )
        subject = f"urn:paygod:retention:{tenant_id}"

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.register.put_policy(conn, policy)
            return None, [EntryDraft(POLICY_KIND, subject, policy.as_dict(), tenant_id=tenant_id)]

        self.ledger.transact(work)
        return policy

    def policies(self, tenant_id: str) -> list[RetentionPolicy]:
        return self.register.policies(tenant_id)

    # -- runs -------------------------------------------------------------------------------

    def run(self, tenant_id: str, actor: str = "housekeeping") -> dict[str, Any]:
        """Apply the tenant's policies now; the counts are sealed as `retention.run`."""
        now = self.clock.now()
        counts: dict[str, Any] = {"shredded": [], "held": [], "access_logs": 0, "exports": 0}
        for policy in self.register.policies(tenant_id):
            cutoff = now - timedelta(days=policy.max_age_days)
            if policy.data_class is DataClass.VAULT:
                self._shred_stale(tenant_id, isoformat(cutoff), actor, counts)
            elif policy.data_class is DataClass.ACCESS_LOGS:
                # Identity's rows, on identity's connection: deleted before the entry that
                # counts them (a crash between the two leaves rows gone and uncounted).
                counts["access_logs"] = self.purge_access_log(tenant_id, cutoff)
            else:
                counts["exports"] = self._drop_exports(tenant_id, isoformat(cutoff))
        payload = {
            "tenant_id": tenant_id,
            "at": isoformat(now),
            "run_by": actor,
            "policies": [p.as_dict() for p in self.register.policies(tenant_id)],
            "shredded_subjects": counts["shredded"],
            "held_subjects": counts["held"],
            "counts": {
                "vault_subjects_shredded": len(counts["shredded"]),
                "vault_subjects_held": len(counts["held"]),
                "access_logs_deleted": counts["access_logs"],
                "exports_deleted": counts["exports"],
            },
        }
        subject = f"urn:paygod:retention:{tenant_id}"
        entry = self.ledger.append(EntryDraft(RUN_KIND, subject, payload, tenant_id=tenant_id))
        return {**payload, "seq": entry.seq}

    def _shred_stale(self, tenant_id: str, cutoff: str, actor: str, counts: dict[str, Any]) -> None:
        for subject in self.vault.stale_subjects(tenant_id, cutoff):
            if self.register.hold(tenant_id, subject) is not None:
                counts["held"].append(subject)
                continue
            self.privacy.shred(tenant_id, subject, f"retention:{actor}", SHRED_KIND)
            counts["shredded"].append(subject)

    def _drop_exports(self, tenant_id: str, cutoff: str) -> int:
        def work(conn: Any) -> tuple[int, list[EntryDraft]]:
            return self.register.drop_exports(conn, tenant_id, cutoff), []

        dropped, _ = self.ledger.transact(work)
        return int(dropped)

    def run_all(self) -> list[dict[str, Any]]:
        """Every tenant with a policy (the housekeeping task)."""
        return [self.run(tenant_id) for tenant_id in self.register.policy_tenants()]
