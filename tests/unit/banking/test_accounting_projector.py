"""The accounting projector against the write path: random operation sequences (opens,
transfers, holds posted in part, voided or left to expire, partial reversals, metadata
updates, closes, refusals) leave rows that the fold of their ledger entries reproduces
exactly, metadata resolved by digest."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.accounting import AccountCode, AccountFlags, AccountSpec
from paygod.accounting.model import TransferFlags, TransferRequest
from paygod.accounting.stores.sql import account_row, transfer_row
from paygod.banking.metadata import MetadataStore
from paygod.banking.projectors.accounting import ACCOUNTS, TRANSFERS, AccountingProjector
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import PaygodError
from tests.unit.accounting.support import START, memory_service

IDS = ["a", "b", "c", "d"]
# b may not overdraw: c -> b funds it, b -> d spends (and is refused when it would overdraw).
PAIRS = [("a", "c"), ("c", "b"), ("b", "d"), ("a", "d"), ("d", "a")]
operation = st.one_of(
    st.tuples(st.just("transfer"), st.sampled_from(PAIRS), st.integers(1, 50)),
    st.tuples(st.just("hold"), st.sampled_from(PAIRS), st.integers(1, 50)),
    st.tuples(st.just("post"), st.integers(0, 30), st.integers(0, 60)),
    st.tuples(st.just("post"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("void"), st.integers(0, 30)),
    st.tuples(st.just("reverse"), st.integers(0, 30), st.integers(0, 60)),
    st.tuples(st.just("expire"), st.integers(1, 20)),
    st.tuples(st.just("meta"), st.sampled_from(IDS), st.integers(0, 3)),
    st.tuples(st.just("close"), st.sampled_from(IDS)),
)


def _run(svc: Any, clock: ManualClock, ops: list[tuple[Any, ...]]) -> None:
    svc.open_accounts(
        "default",
        [
            AccountSpec("USD", AccountCode.ASSET, id="a", metadata={"desk": 1}, owner="bot"),
            AccountSpec("USD", AccountCode.LIABILITY, id="b",
                        flags=AccountFlags(debits_must_not_exceed_credits=True)),
            AccountSpec("USD", AccountCode.EQUITY, id="c"),
            AccountSpec("USD", AccountCode.REVENUE, id="d", metadata={"k": "v"}),
        ],
    )  # fmt: skip
    made: dict[str, list[str]] = {"transfer": [], "hold": []}
    holds, posted = made["hold"], made["transfer"]
    for n, op in enumerate(ops):
        clock.advance(1)
        try:
            if op[0] in made:
                pending = op[0] == "hold"
                (debit, credit), amount = op[1], op[2]
                svc.transfer(
                    "default",
                    TransferRequest(
                        f"x{n}", debit, credit, amount, flags=TransferFlags(pending=pending),
                        timeout_seconds=5 if pending else 0, metadata={"n": n % 3},
                    ),
                )  # fmt: skip
                made[op[0]].append(f"x{n}")
            elif op[0] == "post" and holds:
                svc.post_pending("default", holds[op[1] % len(holds)], amount=op[2] or None)
            elif op[0] == "void" and holds:
                svc.void_pending("default", holds[op[1] % len(holds)])
            elif op[0] == "reverse" and posted:
                svc.reverse("default", posted[op[1] % len(posted)], amount=op[2] or None)
            elif op[0] == "expire":
                clock.advance(op[1])
                svc.expire_pending()
            elif op[0] == "meta":
                svc.update_metadata("default", op[1], {"v": op[2]})
            elif op[0] == "close" and op[1] == "c":
                svc.close_account("default", op[1])
        except PaygodError:
            pass  # refused: nothing recorded, and the fold must not see anything either


@settings(max_examples=80, deadline=None)
@given(st.lists(operation, min_size=10, max_size=60))
def test_the_fold_of_the_entries_is_the_rows(ops: list[tuple[Any, ...]]) -> None:
    clock = ManualClock(START)
    svc = memory_service(clock)
    _run(svc, clock, ops)
    metadata = MetadataStore()
    metadata.extend(a.metadata for a in svc.store.accounts.values())
    metadata.extend(t.metadata for t in svc.store.transfers.values() if t.metadata)
    projector = AccountingProjector(metadata.get)
    projector.feed(svc.ledger.recorded)
    assert projector.rows(ACCOUNTS.name) == {
        k: account_row(a) for k, a in svc.store.accounts.items()
    }
    assert projector.rows(TRANSFERS.name) == {
        k: transfer_row(t) for k, t in svc.store.transfers.items()
    }
    assert not projector.unresolved


def test_an_unknown_digest_is_reported_not_guessed() -> None:
    clock = ManualClock(START)
    svc = memory_service(clock)
    _run(svc, clock, [("transfer", ("a", "c"), 5)])
    projector = AccountingProjector(MetadataStore().get)
    projector.feed(svc.ledger.recorded)
    rows = projector.rows(TRANSFERS.name)
    assert len(projector.unresolved) == 1
    assert rows[("default", "x0")][TRANSFERS.columns.index("metadata")] == "{}"
