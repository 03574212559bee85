"""The accounting service: accounts and transfers, each change sealed in the ledger.

Every write runs inside `LedgerService.transact`: the account rows and the ledger
entries that describe them commit in one transaction or not at all, so balances can
always be rebuilt from the tamper-evident ledger (`rebuild_check`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from paygod.accounting import reports
from paygod.accounting.currencies import exponent
from paygod.accounting.errors import (
    AccountingCode,
    AccountNotFound,
    MetadataInvalid,
    exists_with_different,
)
from paygod.accounting.model import (
    Account,
    AccountCode,
    AccountFlags,
    LedgerRecord,
    Transfer,
    TransferError,
    TransferFlags,
    TransferRequest,
    TransferResult,
)
from paygod.accounting.ports import (
    AccountSession,
    AccountStore,
    DraftFactory,
    LedgerPort,
    iter_all_accounts,
)
from paygod.accounting.rules import (
    CONFLICT_CODES,
    INVALID_CODES,
    NOT_FOUND_CODES,
    Planner,
    metadata_problem,
    validate_request,
)
from paygod.accounting.validtime import ValidBalance, postings_of
from paygod.canonical import digest
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PaygodError,
    Rejected,
)
from paygod.kernel.events import EventEnvelope
from paygod.kernel.identifiers import identifier_problem
from paygod.kernel.record_ids import new_id

R = TypeVar("R")

SWEEP_LIMIT = 10_000

# (accounts before, accounts after) of one batch → events to publish with it.
EventsHook = Callable[[Mapping[str, Account], Mapping[str, Account]], Sequence[EventEnvelope]]


class _NothingWritten(Exception):
    """Raised inside a ledger transaction that has nothing to record, so none is opened."""

    def __init__(self, result: Any) -> None:
        super().__init__("nothing to write")
        self.result = result


def error_for(error: TransferError, prefix: str = "") -> PaygodError:
    """The kernel error a refused transfer becomes at the edges (problem+json, exit code)."""
    errors = [FieldError(prefix + error.pointer, error.message)]
    extra: dict[str, Any] = {"code": error.code, **(error.detail or {})}
    if error.code in INVALID_CODES:
        return InvalidInput(error.message, code=error.code, errors=errors, extra=extra)
    if error.code in NOT_FOUND_CODES:
        return NotFound(error.message, code=error.code, errors=errors, extra=extra)
    if error.code in CONFLICT_CODES or error.code.startswith("exists_with_different_"):
        return Conflict(error.message, code=error.code, errors=errors, extra=extra)
    return Rejected(error.message, code=error.code, errors=errors, extra=extra)


def _owned(found: Mapping[str, Account], account_id: str, owner: str | None) -> Account:
    """The account, unless it is missing or (`owner` given) belongs to someone else: both
    answer the same not-found, so an account's existence never leaks across principals."""
    account = found.get(account_id)
    if account is None or (owner is not None and account.owner != owner):
        raise AccountNotFound(f"account {account_id} not found")
    return account


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """What a client asks for when opening an account."""

    ledger: str
    code: AccountCode
    id: str | None = None
    flags: AccountFlags = field(default_factory=AccountFlags)
    metadata: Mapping[str, Any] | None = None
    owner: str | None = None  # the principal it belongs to; None: the tenant's own books


def account_payload(a: Account, action: str) -> dict[str, Any]:
    """The ledger entry of an account change. `created_at` and `owner` are sealed so the
    account row can be rebuilt from the ledger alone (paygod.banking projections); the
    metadata goes by digest only (client metadata may hold personal data)."""
    payload: dict[str, Any] = {
        "action": action,
        "account_id": a.id,
        "ledger": a.ledger,
        "code": a.code.value,
        "flags": a.flags.names(),
        "metadata_digest": digest(dict(a.metadata)),
        "created_at": isoformat(a.created_at),
    }
    if a.owner is not None:
        payload["owner"] = a.owner
    return payload


class AccountingService:
    def __init__(
        self, store: AccountStore, ledger: LedgerPort, clock: Clock, make_draft: DraftFactory
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.clock = clock
        self.make_draft = make_draft

    # -- the one write path ---------------------------------------------------------

    def _in_transaction(
        self, conn: Any, plan: Callable[[AccountSession], tuple[R, list[LedgerRecord]]]
    ) -> tuple[R, list[Any]]:
        """Run `plan` in the ledger transaction `conn`: (result, the ledger drafts to
        append in that same transaction)."""
        with self.store.exclusive():
            result, records = plan(self.store.session(conn))
            return result, [
                self.make_draft(
                    kind=r.kind,
                    subject=r.subject,
                    payload=r.payload,
                    tenant_id=r.tenant_id,
                    events=r.events,
                    # Only when backdated: the common entry keeps the ledger's default.
                    **({"valid_from": r.valid_from} if r.valid_from is not None else {}),
                )
                for r in records
            ]

    def _transact(self, plan: Callable[[AccountSession], tuple[R, list[LedgerRecord]]]) -> R:
        return self.transact_if_any(lambda conn: self._in_transaction(conn, plan))

    def transact_if_any(self, work: Callable[[Any], tuple[R, list[Any]]]) -> R:
        """Run `work(conn)` in a ledger transaction and append the drafts it returns with
        its result; when it returns none (an idempotent replay), the transaction rolls back
        and only the result comes back: nothing is sealed for a write that changed nothing."""

        def guarded(conn: Any) -> tuple[R, list[Any]]:
            result, drafts = work(conn)
            if not drafts:
                raise _NothingWritten(result)
            return result, drafts

        try:
            result, _entries = self.ledger.transact(guarded)
        except _NothingWritten as nothing:
            return nothing.result  # type: ignore[no-any-return]
        return result

    def seal(self, records: Sequence[LedgerRecord]) -> None:
        """Record entries that change no balance (reconciliation reports)."""
        self._transact(lambda session: (None, list(records)))

    # -- accounts -------------------------------------------------------------------

    def open_accounts(
        self, tenant_id: str, specs: Sequence[AccountSpec]
    ) -> list[tuple[Account, bool]]:
        """Open accounts (idempotent by id): (account, created) for each spec."""
        return self._transact(self._opening(tenant_id, specs))

    def open_accounts_in(
        self, conn: Any, tenant_id: str, specs: Sequence[AccountSpec]
    ) -> tuple[list[tuple[Account, bool]], list[Any]]:
        """`open_accounts` inside a ledger transaction the caller runs (`conn`, from its
        `LedgerService.transact` work): the caller appends the returned drafts with its own."""
        return self.opening_in(tenant_id, specs)(conn)

    def opening_in(
        self, tenant_id: str, specs: Sequence[AccountSpec]
    ) -> Callable[[Any], tuple[list[tuple[Account, bool]], list[Any]]]:
        """`open_accounts_in` in two halves: the specs checked now, before the caller's
        ledger transaction (the single writer does not spend its time on them), and the
        returned function opening them inside that transaction (`conn`)."""
        plan = self._opening(tenant_id, specs)
        return lambda conn: self._in_transaction(conn, plan)

    def have_accounts(self, tenant_id: str, account_ids: Sequence[str]) -> bool:
        """Every one of `account_ids` is open in the tenant (committed state)."""
        with self.store.reading() as session:
            return len(session.get_accounts(tenant_id, account_ids)) == len(set(account_ids))

    def _opening(
        self, tenant_id: str, specs: Sequence[AccountSpec]
    ) -> Callable[[AccountSession], tuple[list[tuple[Account, bool]], list[LedgerRecord]]]:
        now = self.clock.now()
        wanted = [
            _wanted_account(tenant_id, spec, f"/accounts/{i}" if len(specs) > 1 else "", now)
            for i, spec in enumerate(specs)
        ]

        def plan(session: AccountSession) -> tuple[list[tuple[Account, bool]], list[LedgerRecord]]:
            existing = session.get_accounts(tenant_id, [a.id for a in wanted], lock=True)
            out: list[tuple[Account, bool]] = []
            fresh: dict[str, Account] = {}
            for i, a in enumerate(wanted):
                old = existing.get(a.id) or fresh.get(a.id)
                if old is None:
                    fresh[a.id] = a
                    out.append((a, True))
                    continue
                _require_same_account(old, a, f"/accounts/{i}" if len(wanted) > 1 else "")
                out.append((old, False))
            session.insert_accounts(list(fresh.values()))
            records = [
                LedgerRecord("account", a.id, tenant_id, account_payload(a, "open"))
                for a in fresh.values()
            ]
            return out, records

        return plan

    def open_account(self, tenant_id: str, spec: AccountSpec) -> tuple[Account, bool]:
        return self.open_accounts(tenant_id, [spec])[0]

    def get_account(self, tenant_id: str, account_id: str, owner: str | None = None) -> Account:
        """`owner` (scope `own`): another principal's account is as missing as an unknown one."""
        with self.store.reading() as session:
            found = session.get_accounts(tenant_id, [account_id])
        return _owned(found, account_id, owner)

    def list_accounts(
        self,
        tenant_id: str,
        *,
        ledger: str | None = None,
        after: str | None = None,
        limit: int = 100,
        owner: str | None = None,
    ) -> list[Account]:
        with self.store.reading() as session:
            return session.list_accounts(
                tenant_id, ledger=ledger, after=after, limit=limit, owner=owner
            )

    def _change_account(
        self, tenant_id: str, account_id: str, change: Callable[[Account], Account], action: str
    ) -> Account:
        def plan(session: AccountSession) -> tuple[Account, list[LedgerRecord]]:
            found = session.get_accounts(tenant_id, [account_id], lock=True)
            if account_id not in found:
                raise AccountNotFound(f"account {account_id} not found")
            old = found[account_id]
            new = change(old)
            if new == old:
                return old, []
            session.update_accounts([new])
            return new, [LedgerRecord("account", new.id, tenant_id, account_payload(new, action))]

        return self._transact(plan)

    def close_account(self, tenant_id: str, account_id: str) -> Account:
        def close(a: Account) -> Account:
            if a.debits_pending or a.credits_pending:
                raise Rejected(
                    f"account {a.id} has pending transfers; post or void them first",
                    code=AccountingCode.ACCOUNT_HAS_PENDING_TRANSFERS,
                )
            return replace(a, flags=replace(a.flags, closed=True))

        return self._change_account(tenant_id, account_id, close, "close")

    def update_metadata(
        self, tenant_id: str, account_id: str, metadata: Mapping[str, Any]
    ) -> Account:
        problem = metadata_problem(metadata)
        if problem:
            raise MetadataInvalid(problem, errors=[FieldError("/metadata", problem)])
        return self._change_account(
            tenant_id,
            account_id,
            lambda a: replace(a, metadata={**a.metadata, **metadata}),
            "update",
        )

    # -- transfers ------------------------------------------------------------------

    def create_transfers(
        self,
        tenant_id: str,
        requests: Sequence[TransferRequest],
        *,
        events: EventsHook | None = None,
    ) -> list[TransferResult]:
        """Apply a batch; each transfer (or linked chain) succeeds or fails on its own.

        Results come back in request order; nothing of a refused transfer is recorded.
        """
        if requests and all(validate_request(r) for r in requests):
            # Bad input: no transaction.
            return Planner(tenant_id, {}, {}, self.clock.now()).run(requests)
        return self._transact(self._transferring(tenant_id, requests, events))

    def create_transfers_in(
        self,
        conn: Any,
        tenant_id: str,
        requests: Sequence[TransferRequest],
        *,
        events: EventsHook | None = None,
    ) -> tuple[list[TransferResult], list[Any]]:
        """`create_transfers` inside a ledger transaction the caller runs (`conn`, from its
        `LedgerService.transact` work): the caller appends the returned drafts with its own,
        so its records and these balances commit together or not at all."""
        return self._in_transaction(conn, self._transferring(tenant_id, requests, events))

    def _transferring(
        self,
        tenant_id: str,
        requests: Sequence[TransferRequest],
        events: EventsHook | None,
    ) -> Callable[[AccountSession], tuple[list[TransferResult], list[LedgerRecord]]]:
        now = self.clock.now()

        def plan(session: AccountSession) -> tuple[list[TransferResult], list[LedgerRecord]]:
            wanted = {r.id for r in requests}
            wanted.update(r.pending_id for r in requests if r.pending_id)
            wanted.update(r.reversal_of for r in requests if r.reversal_of)
            known = session.get_transfers(tenant_id, wanted)
            due = session.due_pending(tenant_id, now, SWEEP_LIMIT)
            account_ids: set[str] = set()
            for r in requests:
                account_ids.update(x for x in (r.debit_account_id, r.credit_account_id) if x)
            for t in (*known.values(), *due):
                account_ids.update((t.debit_account_id, t.credit_account_id))
            accounts = session.get_accounts(tenant_id, account_ids, lock=True)
            planner = Planner(
                tenant_id, accounts, {**known, **{t.id: t for t in due}}, now, session
            )
            for t in due:
                planner.expire(t)
            results = planner.run(requests)
            changed = [planner.accounts[i] for i in sorted(planner.changed_accounts)]
            session.update_accounts(changed)
            session.insert_transfers(planner.new_transfers.values())
            session.update_transfers(planner.updated_transfers.values())
            session.insert_postings(planner.postings)
            records = planner.records
            if events is not None and records:
                extra = tuple(events(accounts, {a.id: a for a in changed}))
                if extra:
                    records[-1] = replace(records[-1], events=records[-1].events + extra)
            return results, records

        return plan

    def transfer(self, tenant_id: str, request: TransferRequest) -> TransferResult:
        """One transfer; a refusal raises its specific error."""
        result = self.create_transfers(tenant_id, [request])[0]
        if result.error is not None:
            raise error_for(result.error)
        return result

    def submit_linked(
        self, tenant_id: str, requests: Sequence[TransferRequest]
    ) -> list[TransferResult]:
        """A linked batch: all commit or none does; the first cause is raised."""
        chained = [
            replace(r, flags=replace(r.flags, linked=i < len(requests) - 1))
            for i, r in enumerate(requests)
        ]
        results = self.create_transfers(tenant_id, chained)
        for result in results:
            if result.error is not None and result.error.code != AccountingCode.LINKED_EVENT_FAILED:
                raise error_for(result.error, prefix=f"/transfers/{result.index}")
        return results

    def post_pending(
        self,
        tenant_id: str,
        pending_id: str,
        *,
        id: str | None = None,
        amount: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> TransferResult:
        return self.transfer(
            tenant_id, posting(pending_id, id=id, amount=amount, metadata=metadata)
        )

    def void_pending(
        self,
        tenant_id: str,
        pending_id: str,
        *,
        id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> TransferResult:
        return self.transfer(tenant_id, voiding(pending_id, id=id, metadata=metadata))

    def reverse(
        self,
        tenant_id: str,
        transfer_id: str,
        *,
        id: str | None = None,
        amount: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> TransferResult:
        """A new transfer in the opposite direction that references the original."""
        original = self.get_transfer(tenant_id, transfer_id)
        with self.store.reading() as session:
            request = _reversal(session, original, id, amount, metadata)
        return self.transfer(tenant_id, request)

    def reverse_in(
        self,
        conn: Any,
        tenant_id: str,
        transfer_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        module: str | None = None,
    ) -> tuple[list[TransferResult], list[Any]]:
        """`reverse` (the whole rest) inside a ledger transaction the caller runs;
        `module`: the module reversing a transfer it owns."""

        def plan(session: AccountSession) -> tuple[list[TransferResult], list[LedgerRecord]]:
            original = session.get_transfers(tenant_id, [transfer_id]).get(transfer_id)
            if original is None:
                raise NotFound(f"no transfer {transfer_id}")
            request = _reversal(session, original, None, None, metadata, module)
            return self._transferring(tenant_id, [request], None)(session)

        return self._in_transaction(conn, plan)

    def get_transfer_in(self, conn: Any, tenant_id: str, transfer_id: str) -> Transfer | None:
        """A transfer as the ledger transaction `conn` sees it (a check made in the same
        transaction as the step that relies on it)."""

        def read(session: AccountSession) -> tuple[Transfer | None, list[LedgerRecord]]:
            return session.get_transfers(tenant_id, [transfer_id]).get(transfer_id), []

        found, _ = self._in_transaction(conn, read)
        return found

    def get_transfer(self, tenant_id: str, transfer_id: str, owner: str | None = None) -> Transfer:
        """`owner` (scope `own`): only a transfer touching one of the owner's accounts."""
        with self.store.reading() as session:
            found = session.get_transfers(tenant_id, [transfer_id])
            transfer = found.get(transfer_id)
            if transfer is not None and owner is not None:
                sides = session.get_accounts(
                    tenant_id, [transfer.debit_account_id, transfer.credit_account_id]
                )
                if not any(a.owner == owner for a in sides.values()):
                    transfer = None
        if transfer is None:
            raise NotFound(
                f"transfer {transfer_id} not found", code=AccountingCode.TRANSFER_NOT_FOUND
            )
        return transfer

    def list_transfers(
        self,
        tenant_id: str,
        *,
        after: str | None = None,
        limit: int = 100,
        owner: str | None = None,
    ) -> list[Transfer]:
        with self.store.reading() as session:
            return session.list_transfers(tenant_id, after=after, limit=limit, owner=owner)

    def expire_pending(self, now: datetime | None = None) -> list[str]:
        """Release every hold whose timeout has passed; returns the expired transfer ids."""
        instant = now or self.clock.now()
        expired: list[str] = []
        while True:
            with self.store.reading() as session:
                due = session.due_pending(None, instant, SWEEP_LIMIT)
            if not due:
                return expired
            for tenant_id in sorted({t.tenant_id for t in due}):
                expired.extend(self._sweep(tenant_id, instant))

    def _sweep(self, tenant_id: str, now: datetime) -> list[str]:
        def plan(session: AccountSession) -> tuple[list[str], list[LedgerRecord]]:
            due = session.due_pending(tenant_id, now, SWEEP_LIMIT)
            ids = {x for t in due for x in (t.debit_account_id, t.credit_account_id)}
            accounts = session.get_accounts(tenant_id, ids, lock=True)
            planner = Planner(tenant_id, accounts, {t.id: t for t in due}, now)
            for t in due:
                planner.expire(t)
            session.update_accounts(planner.accounts[i] for i in sorted(planner.changed_accounts))
            session.update_transfers(planner.updated_transfers.values())
            return [t.id for t in due], planner.records

        return self._transact(plan)

    # -- reports --------------------------------------------------------------------

    def balance(
        self,
        tenant_id: str,
        account_id: str,
        at: datetime | None = None,
        owner: str | None = None,
    ) -> reports.Balance:
        """The balance now, or as of any past instant (replayed from transfer history)."""
        with self.store.reading() as session:
            account = _owned(session.get_accounts(tenant_id, [account_id]), account_id, owner)
            if at is None:
                now = self.clock.now()
                return reports.Balance(
                    account.id,
                    account.ledger,
                    now,
                    account.debits_posted,
                    account.credits_posted,
                    account.debits_pending,
                    account.credits_pending,
                    account.balance,
                )
            history = session.account_transfers(tenant_id, account_id, until=at)
        return reports.balance_at(account, history, at)

    def valid_balance(
        self,
        tenant_id: str,
        account_id: str,
        valid_at: datetime | None = None,
        recorded_at: datetime | None = None,
        owner: str | None = None,
    ) -> ValidBalance:
        """Posted totals at `valid_at` in valid time, as the books stood at `recorded_at`
        ("the balance on 1 March as we knew it on 5 March"); either defaults to now."""
        now = self.clock.now()
        valid, recorded = valid_at or now, recorded_at or now
        with self.store.reading() as session:
            account = _owned(session.get_accounts(tenant_id, [account_id]), account_id, owner)
            debits, credits = session.valid_totals(tenant_id, account_id, valid, recorded)
        diff = debits - credits
        return ValidBalance(
            account.id,
            account.ledger,
            valid,
            recorded,
            debits,
            credits,
            diff if account.code.debit_normal else -diff,
        )

    def statement(
        self,
        tenant_id: str,
        account_id: str,
        start: datetime,
        end: datetime,
        owner: str | None = None,
    ) -> reports.Statement:
        with self.store.reading() as session:
            account = _owned(session.get_accounts(tenant_id, [account_id]), account_id, owner)
            history = session.account_transfers(tenant_id, account_id, until=end)
        return reports.statement(account, history, start, end)

    def trial_balance(self, tenant_id: str) -> dict[str, Any]:
        with self.store.reading() as session:
            return reports.trial_balance(iter_all_accounts(session, tenant_id))

    def export_transfers(self, tenant_id: str, fmt: str = "csv", owner: str | None = None) -> str:
        transfers: list[Transfer] = []
        after: str | None = None
        while True:
            page = self.list_transfers(tenant_id, after=after, limit=1000, owner=owner)
            transfers.extend(page)
            if len(page) < 1000:
                break
            after = page[-1].id
        transfers.sort(key=lambda t: (t.timestamp, t.id))
        return reports.export_transfers(transfers, fmt)

    def rebuild_postings(self) -> int:
        """The valid-time postings index again from the transfer rows, whole, in the
        ledger's write transaction (after the transfers were rebuilt from the ledger or a
        backup restored): how many postings it holds."""

        def work(conn: Any) -> tuple[int, list[Any]]:
            with self.store.exclusive():
                session = self.store.session(conn)
                postings = [p for t in session.posted_transfers() for p in (postings_of(t) or ())]
                session.clear_postings()
                session.insert_postings(postings)
            return len(postings), []

        count, _ = self.ledger.transact(work)
        return int(count)

    def rebuild_check(self, tenant_id: str | None = None) -> reports.AuditReport:
        """Running totals against totals replayed from the ledger's transfer entries."""
        return reports.rebuild_check(self.store, self.ledger, tenant_id)


def posting(
    pending_id: str,
    *,
    id: str | None = None,
    amount: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    module: str | None = None,
) -> TransferRequest:
    """The transfer that posts a hold; its default id, derived from the hold, makes a
    retried post idempotent. `module`: the module posting its own hold."""
    return TransferRequest(
        id=id or f"{pending_id}.post",
        amount=amount,
        flags=TransferFlags(post_pending=True),
        pending_id=pending_id,
        code="post_pending",
        metadata=dict(metadata or {}),
        module=module,
    )


def voiding(
    pending_id: str,
    *,
    id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    module: str | None = None,
) -> TransferRequest:
    """The transfer that voids a hold (idempotent by its derived id, like `posting`)."""
    return TransferRequest(
        id=id or f"{pending_id}.void",
        flags=TransferFlags(void_pending=True),
        pending_id=pending_id,
        code="void_pending",
        metadata=dict(metadata or {}),
        module=module,
    )


def _reversal(
    session: AccountSession,
    original: Transfer,
    id: str | None,
    amount: int | None,
    metadata: Mapping[str, Any] | None,
    module: str | None = None,
) -> TransferRequest:
    reversal_id = id or f"{original.id}.reversal"
    if amount is None:
        # "The rest" must mean the same amount on a retry, after the first call took it.
        earlier = session.get_transfers(original.tenant_id, [reversal_id]).get(reversal_id)
        amount = earlier.amount if earlier else original.amount - original.reversed_amount
        if amount == 0:
            # Nothing is left: say so, rather than "amount must not be zero" about an
            # amount the caller never sent.
            raise error_for(
                TransferError(
                    AccountingCode.EXCEEDS_REVERSIBLE_AMOUNT,
                    f"nothing of {original.id} is left to reverse",
                    "amount",
                )
            )
    return TransferRequest(
        id=reversal_id,
        debit_account_id=original.credit_account_id,
        credit_account_id=original.debit_account_id,
        amount=amount,
        ledger=original.ledger,
        code="reversal",
        reversal_of=original.id,
        metadata=dict(metadata or {}),
        module=module,
    )


def _wanted_account(tenant_id: str, spec: AccountSpec, prefix: str, now: datetime) -> Account:
    """The account a spec asks for, checked; `prefix` points at it in a batch request."""
    try:
        exponent(spec.ledger)
    except InvalidInput as exc:
        raise InvalidInput(
            exc.detail,
            code=exc.instance_code,
            errors=[FieldError(prefix + "/ledger", exc.detail)],
        ) from None
    if spec.flags.debits_must_not_exceed_credits and spec.flags.credits_must_not_exceed_debits:
        raise InvalidInput(
            "an account cannot limit both debits and credits",
            code=AccountingCode.FLAGS_ARE_MUTUALLY_EXCLUSIVE,
            errors=[FieldError(prefix + "/flags", "choose one limit flag")],
        )
    problem = metadata_problem(spec.metadata or {})
    if problem:
        raise MetadataInvalid(problem, errors=[FieldError(prefix + "/metadata", problem)])
    account_id = spec.id or new_id()
    if not account_id.strip() or len(account_id) > 128:
        raise InvalidInput(
            "account id must be 1 to 128 characters",
            code=AccountingCode.ID_MUST_NOT_BE_EMPTY,
            errors=[FieldError(prefix + "/id", "1 to 128 characters")],
        )
    problem = identifier_problem(account_id)
    if problem:
        raise InvalidInput(
            f"account id {problem}",
            code=AccountingCode.ID_INVALID,
            errors=[FieldError(prefix + "/id", problem)],
        )
    return Account(
        id=account_id,
        tenant_id=tenant_id,
        ledger=spec.ledger,
        code=spec.code,
        created_at=now,
        flags=spec.flags,
        metadata=dict(spec.metadata or {}),
        owner=spec.owner,
    )


def _require_same_account(old: Account, wanted: Account, prefix: str) -> None:
    """Opening an account again is idempotent only with the same terms."""
    for name in ("ledger", "code", "flags", "metadata", "owner"):
        if getattr(old, name) != getattr(wanted, name):
            raise Conflict(
                f"account {wanted.id} exists with a different {name}",
                code=exists_with_different(name),
                errors=[FieldError(f"{prefix}/{name}", "differs from the stored account")],
            )
