"""Observing a period's sealed decisions for the assessment results: each row's seal
re-checked (record hash, leaf, RFC 9162 inclusion proof against the head), the controls
its packs' rules name and its evidence found, and its observation written as OSCAL JSON
text. In this process, or cut by seq into slices that worker processes observe apart,
one core each: the per-row work is Python's and holds the GIL, so a million rows scale
only across processes. The document is the same bytes either way (the slices' texts are
streamed in seq order and their runs joined in that order)."""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from paygod.assurance import observation_text as texts
from paygod.assurance.basis import seal_rows
from paygod.assurance.controls import DecisionControls, RuleControls, rule_controls
from paygod.assurance.model import ContentUuids
from paygod.decisions.packs import compile_pack
from paygod.kernel.errors import InvalidInput
from paygod.ledger.model import ScanWindow, SignedTreeHead
from paygod.ledger.ports import LedgerStore

PACK_KIND = "pack"  # decisions.service.PACK_KIND, not imported: workers start light
Evidence = dict[str, tuple[str, str, str, str]]
NO_EVIDENCE = ("",) * len(texts.EVIDENCE_SLOTS)
# Below this many entries in the head's tree a period is observed in this process: a
# worker costs its start (about a second of imports) before it saves anything.
PARALLEL_FROM = 100_000
# How far before a decision its evidence is looked for by a worker: the decision service
# seals the evidence in the decision's own transaction, just before it.
EVIDENCE_REACH = 64
PIECE = 100_000  # seqs a worker observes at once (about 250 MB of text in a period of decisions)
READ = 4 << 20  # bytes read at once from a piece's file


def pack_subject(name: str) -> str:
    from paygod.decisions.service import pack_subject as subject

    return subject(name)


@dataclass(frozen=True)
class Slice:
    """What one process observes: the store to read (opened there), the decisions in
    `window`, the evidence in `evidence`, and the loaded packs' rules by digest (for a
    pack the ledger does not hold)."""

    open_store: Callable[[], LedgerStore] | None  # None: this process only
    head: SignedTreeHead
    window: ScanWindow
    evidence: ScanWindow
    loaded: Mapping[str, RuleControls]


def sealed_rules(
    store: LedgerStore, head: SignedTreeHead, loaded: Mapping[str, RuleControls]
) -> Callable[[str, str], RuleControls | None]:
    """The rules of the pack that decided, as sealed in the ledger (its source is recorded
    the first time it decides, before the head): the mapping to controls then rests on
    the ledger alone, whatever packs are loaded now. `loaded` is asked only for a pack
    the ledger does not hold."""

    def resolve(name: str, digest: str) -> RuleControls | None:
        for entry in store.subject_entries(pack_subject(name), None, None):
            if entry.seq >= head.tree_size or entry.kind != PACK_KIND:
                continue
            if entry.payload.get("digest") == digest and isinstance(
                source := entry.payload.get("source"), str
            ):
                try:
                    return rule_controls(compile_pack(source.encode(), Path(f"{name}/pack.yaml")))
                except InvalidInput:  # sealed before its controls were known: none
                    return None
        return loaded.get(digest)

    return resolve


def evidence_of(store: LedgerStore, window: ScanWindow) -> Evidence:
    """Per decision_id, the digests of its evidence: the evidence entry's record hash and
    seq, the input and measurements digests it cites (as observation slots)."""
    evidence: Evidence = {}
    for row in store.scan(window):
        payload = _payload(row[5])
        evidence[str(payload.get("decision_id"))] = (
            row[11],
            str(row[0]),
            str(payload.get("input_hash")),
            str(payload.get("measurements")),
        )
    return evidence


def observed(part: Slice, store: LedgerStore) -> Iterator[texts.Observed]:
    """The observation values of each decision in the slice, its seal re-checked."""
    mapper = DecisionControls(sealed_rules(store, part.head, part.loaded))
    evidence = evidence_of(store, part.evidence)
    observation_uuid = ContentUuids("observation")
    refs_texts: dict[tuple[str, ...], str] = {}
    rows = store.scan(part.window)
    # The values in texts.SLOTS order (a tuple: a million are made).
    for row, leaf, path, problem in seal_rows(store, part.head, rows):
        try:  # _payload, inline: a million rows
            payload = orjson.loads(row[5])
        except orjson.JSONDecodeError:
            payload = {}
        if type(payload) is not dict:
            payload = {}
        refs = mapper.of(payload)
        refs_text = refs_texts.get(refs)
        if refs_text is None:
            refs_text = refs_texts[refs] = ", ".join(refs) or "-"
        decision_id = payload.get("decision_id")
        get = payload.get
        yield (
            (
                observation_uuid.of_pair(row[0], row[11]),
                str(row[0]),
                leaf,
                "verified" if problem is None else "failed",
                path,
                row[11],
                str(get("decision", "-")),
                str(decision_id if decision_id is not None else row[1]),
                str(get("pack")),
                str(get("rule")),
                refs_text,
                row[2],
                row[1],
                row[6],
                *evidence.get(str(decision_id), NO_EVIDENCE),
                problem or "",
            ),
            refs,
        )


def observations(
    store: LedgerStore, part: Slice, run: texts.Run, workers: int = 1
) -> Iterator[bytes]:
    """The slice's observation texts as one stream (see `texts.observation_texts`), `run`
    whole once it ends: in this process, or cut into `workers` slices by seq when the
    store can be opened in another process and the tree is large enough to pay for it."""
    if workers > 1 and part.head.tree_size >= PARALLEL_FROM and part.open_store is not None:
        return _in_workers(part, run, workers)
    return texts.observation_texts(observed(part, store), run)


def cut(part: Slice, pieces: int) -> list[Slice]:
    """`pieces` slices of consecutive seq ranges covering the part's window."""
    start, end = part.window.start, part.window.end
    bounds = [start + (end - start) * i // pieces for i in range(pieces + 1)]
    return [
        replace(
            part,
            window=replace(part.window, start=low, end=high),
            evidence=replace(part.evidence, start=max(low - EVIDENCE_REACH, 0), end=high),
        )
        for low, high in itertools.pairwise(bounds)
        if high > low
    ]


def _in_workers(part: Slice, run: texts.Run, workers: int) -> Iterator[bytes]:
    """The window cut into pieces of about PIECE seqs, observed by `workers` worker
    processes (spawned: this process may run threads, which a fork would copy mid-lock),
    each piece's text written to a file of its own and streamed from it here in seq
    order as soon as it is done (the pool hands them back in order), the runs joined.
    Many pieces, not one per worker: the document streams while the workers go on, and
    only the last piece waits to be copied at the end. Files, not the pool's pipe: a
    pickled text crosses a pipe in small writes, three times the system time."""
    opener = part.open_store
    if opener is None:
        raise ValueError("a period observed by workers needs a store they can open")
    pieces = cut(part, max(workers, -(-(part.window.end - part.window.start) // PIECE)))
    with tempfile.TemporaryDirectory(prefix="paygod-oscal-") as folder:
        jobs = [(piece, os.path.join(folder, f"{i}.json")) for i, piece in enumerate(pieces)]
        pool = multiprocessing.get_context("spawn").Pool(workers, _worker_start, (opener,))
        try:
            wrote = False
            for out, done in pool.imap(observe_piece, jobs):
                run.extend(done)
                if done.uuids:
                    if wrote:
                        yield texts.SEPARATOR
                    wrote = True
                    with open(out, "rb") as handle:
                        while block := handle.read(READ):
                            yield block
                os.unlink(out)  # its pages are the next piece's page cache
        finally:
            # Done, failed or abandoned by the reader (its generator closed): no worker
            # goes on observing for nobody.
            pool.terminate()
            pool.join()


_store: LedgerStore | None = None  # a worker process's store, opened once at its start


def _worker_start(opener: Callable[[], LedgerStore]) -> None:
    """A worker's start: its store opened; the cyclic garbage collector off, as a worker
    lives for one document and the million short-lived tuples it makes hold no cycles."""
    global _store
    gc.disable()
    _store = opener()


def observe_piece(job: tuple[Slice, str]) -> tuple[str, texts.Run]:
    """A worker's task: the piece's observation texts into the file `out`; (out, their
    run) back."""
    part, out = job
    if _store is None:
        raise RuntimeError("observe_piece runs in a worker started by _worker_start")
    run = texts.Run()
    with open(out, "wb") as handle:
        for block in texts.observation_texts(observed(part, _store), run):
            handle.write(block)
    return out, run


def loaded_rules(packs: Iterable[Any]) -> dict[str, RuleControls]:
    return {pack.digest: rule_controls(pack) for pack in packs}


def _payload(text: str) -> dict[str, Any]:
    """A stored payload; an edited one that no longer parses as an object reads as empty
    (its record hash fails: the observation says so)."""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
