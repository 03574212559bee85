"""The vault's use cases: seal a subject's record, read it, erase the subject, export
everything about them.

Every change is a ledger entry written in the same transaction as the rows it describes,
and no entry holds personal data: records are sealed as their digest and record URN,
subjects by their URN. Erasure destroys the subject's data key (crypto-shredding), so the
ledger keeps verifying and every copy of the ciphertexts, backups included, stays shut.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import orjson

from paygod.canonical import digest
from paygod.identity.sealing import SecretBox
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import Conflict, FieldError, Gone, InvalidInput, NotFound
from paygod.kernel.identifiers import subject_problem
from paygod.kernel.record_ids import new_id
from paygod.ledger import Entry, EntryDraft, LedgerService
from paygod.privacy import crypto
from paygod.privacy.errors import PrivacyCode
from paygod.privacy.model import RECORD_CLASSES, ExportRecord, SubjectKey, VaultRecord
from paygod.privacy.ports import ConsentHistory, PrivacyRegister, VaultStore

ERASURE_KIND = "gdpr.erasure"
ACCESS_KIND = "gdpr.access"
RECORD_KIND = "vault.record"
URN_PREFIX = "urn:paygod:vault:"


def require_subject(subject: Any, pointer: str = "/subject") -> str:
    """A data subject is a URN (`urn:<nid>:<nss>`): the ledger names them by it alone."""
    problem = (
        "expected a URN (urn:...) naming the data subject"
        if not isinstance(subject, str) or not subject.startswith("urn:") or len(subject) < 6
        else subject_problem(subject)
    )
    if problem:
        raise InvalidInput("invalid data subject", errors=[FieldError(pointer, problem)])
    return str(subject)


def erased_problem(key: SubjectKey) -> Gone:
    return Gone(
        f"data subject {key.subject} was erased at {key.erased_at}",
        code=PrivacyCode.SUBJECT_ERASED,
        extra={"subject": key.subject, "erased_at": key.erased_at},
    )


class PrivacyService:
    def __init__(
        self,
        ledger: LedgerService,
        vault: VaultStore,
        register: PrivacyRegister,
        clock: Clock,
        box: SecretBox,
        consents: ConsentHistory | None = None,
    ) -> None:
        self.ledger = ledger
        self.vault = vault
        self.register = register
        self.clock = clock
        self.box = box
        self.consents = consents or (lambda tenant_id, subject: [])
        self._lock = threading.Lock()

    # -- sealing records --------------------------------------------------------------------

    def seal_in(
        self, conn: Any, tenant_id: str, subject: str, record_class: str, data: Mapping[str, Any]
    ) -> VaultRecord:
        """Seal `data` under the subject's key on the caller's transaction (`conn`); the
        caller's own ledger entry carries the record's digest or URN."""
        if record_class not in RECORD_CLASSES:
            raise InvalidInput(
                "invalid record class",
                errors=[FieldError("/class", f"one of {', '.join(sorted(RECORD_CLASSES))}")],
            )
        key = self._data_key(conn, tenant_id, subject)
        record_id = new_id()
        plain = orjson.dumps(dict(data))
        record = VaultRecord(
            record_id,
            tenant_id,
            subject,
            record_class,
            crypto.seal(key, plain, record_id, subject),
            digest(dict(data)),
            isoformat(self.clock.now()),
        )
        self.vault.add_record(conn, record)
        return record

    def _data_key(self, conn: Any, tenant_id: str, subject: str) -> bytes:
        key = self.vault.key(tenant_id, subject, conn)
        if key is None:
            fresh = crypto.new_data_key()
            wrapped = crypto.wrap(self.box, fresh, tenant_id, subject)
            at = isoformat(self.clock.now())
            self.vault.add_key(conn, SubjectKey(tenant_id, subject, wrapped, at))
            key = self.vault.key(tenant_id, subject, conn)  # another writer's key wins
            assert key is not None
        if key.wrapped is None:
            raise erased_problem(key)
        return crypto.unwrap(self.box, key.wrapped, tenant_id, subject)

    def put(
        self, tenant_id: str, subject: Any, record_class: str, data: Mapping[str, Any]
    ) -> tuple[VaultRecord, Entry]:
        """Seal one record and record its reference (`vault.record`: URN and digest)."""
        subject = require_subject(subject)
        if not isinstance(data, Mapping) or not data:
            raise InvalidInput("invalid record", errors=[FieldError("/data", "a JSON object")])

        def work(conn: Any) -> tuple[VaultRecord, list[EntryDraft]]:
            record = self.seal_in(conn, tenant_id, subject, record_class, data)
            ref = record.reference()
            return record, [EntryDraft(RECORD_KIND, subject, ref, tenant_id=tenant_id)]

        record, entries = self.ledger.transact(work)
        return record, entries[-1]

    # -- reading ----------------------------------------------------------------------------

    def read(self, tenant_id: str, record_ref: str) -> dict[str, Any]:
        """A record decrypted; 410 Gone (with when) once its subject was erased."""
        record_id = record_ref.removeprefix(URN_PREFIX)
        record = self.vault.record(tenant_id, record_id)
        if record is None:
            raise NotFound(f"no vault record {record_ref}")
        return {**record.reference(), "data": self._open(record)}

    def _open(self, record: VaultRecord) -> dict[str, Any]:
        key = self.vault.key(record.tenant_id, record.subject)
        if key is None or key.wrapped is None:
            raise erased_problem(key or SubjectKey(record.tenant_id, record.subject, None, ""))
        data_key = crypto.unwrap(self.box, key.wrapped, record.tenant_id, record.subject)
        plain = crypto.open_sealed(data_key, record.sealed, record.record_id, record.subject)
        found = orjson.loads(plain)
        return found if isinstance(found, dict) else {}

    def known(self, tenant_id: str, subject: str) -> SubjectKey:
        key = self.vault.key(tenant_id, subject)
        if key is None:
            raise NotFound(f"no data subject {subject}", code=PrivacyCode.UNKNOWN_SUBJECT)
        return key

    # -- erasure ----------------------------------------------------------------------------

    def erase(self, tenant_id: str, subject: Any, requester: str) -> dict[str, Any]:
        """GDPR art. 17: destroy the subject's key and record that it was done (date,
        requester, subject URN; nothing else). 404 for an unknown subject, 409 under a legal
        hold, 410 when already erased; nothing is recorded in those cases."""
        subject = require_subject(subject)
        with self._lock:
            key = self.known(tenant_id, subject)
            if key.erased:
                raise erased_problem(key)
            hold = self.register.hold(tenant_id, subject)
            if hold is not None:
                raise Conflict(
                    f"data subject {subject} is under a legal hold: {hold.reason}",
                    code=PrivacyCode.LEGAL_HOLD,
                    extra={"hold": hold.as_dict()},
                )
            entry = self.shred(tenant_id, subject, requester, ERASURE_KIND)
        return {
            "subject": subject,
            "erased_at": entry.payload["erased_at"],
            "requested_by": requester,
            "records": entry.payload["records"],
            "seq": entry.seq,
            "entry_id": entry.entry_id,
        }

    def shred(self, tenant_id: str, subject: str, requester: str, kind: str) -> Entry:
        at = isoformat(self.clock.now())
        count = len(self.vault.records(tenant_id, subject))
        payload = {"subject": subject, "erased_at": at, "requested_by": requester, "records": count}

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            # Checked again in the write transaction: another process may have erased the
            # subject since (the lock above is this process's only).
            current = self.vault.key(tenant_id, subject, conn)
            if current is not None and current.erased:
                raise erased_problem(current)
            self.vault.shred(conn, tenant_id, subject, at, requester)
            return None, [EntryDraft(kind, subject, payload, tenant_id=tenant_id)]

        _, entries = self.ledger.transact(work)
        self.vault.forget()
        return entries[-1]

    # -- subject access -------------------------------------------------------------------

    def export(self, tenant_id: str, subject: Any, requester: str) -> dict[str, Any]:
        """GDPR art. 15: everything held about the subject in one document, and a
        `gdpr.access` entry (who asked, when, the document's digest)."""
        subject = require_subject(subject)
        key = self.known(tenant_id, subject)
        hold = self.register.hold(tenant_id, subject)
        document = {
            "subject": subject,
            "tenant_id": tenant_id,
            "generated_at": isoformat(self.clock.now()),
            "erased_at": key.erased_at,
            "legal_hold": hold.as_dict() if hold else None,
            "records": [self._exported(r, key) for r in self.vault.records(tenant_id, subject)],
            "ledger": [_ref(e) for e in self.ledger.history(subject, tenant_id)],
            "consents": self.consents(tenant_id, subject),
            "exports": [
                {"digest": e.digest, "requested_by": e.requested_by, "created_at": e.created_at}
                for e in self.register.exports(tenant_id, subject)
            ],
        }
        export = ExportRecord(
            new_id(), tenant_id, subject, digest(document), requester, document["generated_at"]
        )
        payload = {
            "subject": subject,
            "requested_by": requester,
            "at": export.created_at,
            "export_digest": export.digest,
        }

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.register.add_export(conn, export)
            return None, [EntryDraft(ACCESS_KIND, subject, payload, tenant_id=tenant_id)]

        _, entries = self.ledger.transact(work)
        return {"export": document, "digest": export.digest, "access_seq": entries[-1].seq}

    def _exported(self, record: VaultRecord, key: SubjectKey) -> dict[str, Any]:
        if key.erased:
            return {**record.reference(), "data": None, "erased_at": key.erased_at}
        return {**record.reference(), "data": self._open(record)}


def _ref(entry: Entry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "entry_id": entry.entry_id,
        "kind": entry.kind,
        "recorded_at": entry.timestamp,
        "record_hash": entry.record_hash,
    }
