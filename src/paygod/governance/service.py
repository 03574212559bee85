"""The promotion pipeline: a challenger version of a pack goes draft -> shadow -> canary ->
active, or is retired (by hand, or automatically when its canary breaches the SLO).

State is the ledger's: every transition is an entry about `policy:<pack>` (kind
`policy.stage`) carrying the challenger's version, digest, stage, canary percentage and, for
a promotion, the gate's numbers or, for a rollback, the breach. On start the last entry per
pack is read back. The live counters (agreement with the champion, the confusion matrix,
per-arm error/refusal rates and latencies) are per process and are sealed with the
transition that uses them.

Hot-path hooks, called by the decision service for every decision:
- `route(tenant, subject, packs)`: the packs that decide (a canary subject gets the
  challenger in place of the champion) and the challengers to evaluate in the shadows;
- `observe(...)`: after the verdict, each shadow challenger is evaluated on the same input
  and measurements (never deciding), and the canary's arm is checked against its SLO.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paygod.decisions.bundles import Keyring
from paygod.decisions.engine import evaluate
from paygod.decisions.model import Pack, SetResult, Verdict
from paygod.decisions.packs import PackRepository, load_pack
from paygod.decisions.sources import RELEASES
from paygod.governance.errors import ChallengerExists, GovernanceCode
from paygod.governance.model import CanarySchedule, Stage, canary_arm, check_transition
from paygod.governance.rollback import ArmStats, Breach, RollbackPolicy
from paygod.governance.stats import GateResult, Proportion, promotion_gate
from paygod.governance.uploads import bundle_entry, decode_files, materialize, verified_pack_dirs
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import Conflict, InvalidInput, NotFound
from paygod.kernel.events import EventEnvelope
from paygod.kernel.record_ids import new_id
from paygod.ledger import LedgerService
from paygod.ledger.model import EntryDraft

KIND = "policy.stage"
OUTCOME_KIND = "policy.outcome"
EVENT_STAGE = "policy.stage_changed"
EVENT_ROLLBACK = "policy.rolled_back"
_WINDOW = 6000  # decisions per arm the SLO looks back over
_DIFFERING_KEPT = 20


def subject_of(pack: str) -> str:
    return f"policy:{pack}"


@dataclass
class _Arm:
    """One arm's recent decisions: verdicts and latencies over a sliding window."""

    verdicts: deque[str] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))

    def add(self, verdict: str, latency_ms: float) -> None:
        self.verdicts.append(verdict)
        self.latencies.append(latency_ms)

    def stats(self) -> ArmStats:
        counts = Counter(self.verdicts)
        refusals = counts[Verdict.DENY.value] + counts[Verdict.FLAG.value]
        return ArmStats(
            len(self.verdicts), counts[Verdict.ERROR.value], refusals, list(self.latencies)
        )


@dataclass
class Challenger:
    pack: Pack
    stage: Stage
    path: str
    percent: float = 0.0
    seq: int = 0
    # shadow: agreement with the champion and the confusion matrix champion x challenger
    compared: int = 0
    agreed: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    differing: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=_DIFFERING_KEPT))
    shadow_ms: float = 0.0
    # reviewed outcomes: how often each side's verdict was the right one
    reviewed: int = 0
    challenger_right: int = 0
    champion_right: int = 0
    # canary
    champion_arm: _Arm = field(default_factory=_Arm)
    canary_arm: _Arm = field(default_factory=_Arm)
    canary_decisions: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "version": self.pack.version,
            "digest": self.pack.digest,
            "stage": self.stage.value,
            "canary_percent": self.percent,
            "seq": self.seq,
            "shadow": {
                "compared": self.compared,
                "agreement_rate": round(self.agreed / self.compared, 6) if self.compared else None,
                "confusion": [
                    {"champion": a, "challenger": b, "count": n}
                    for (a, b), n in sorted(self.confusion.items())
                ],
                "differing": list(self.differing),
                "mean_extra_ms": round(self.shadow_ms / self.compared, 4)
                if self.compared
                else None,
            },
            "reviewed": {
                "count": self.reviewed,
                "challenger_right": self.challenger_right,
                "champion_right": self.champion_right,
            },
            "canary": {
                "decisions": self.canary_decisions,
                "champion": _arm_summary(self.champion_arm.stats()),
                "canary": _arm_summary(self.canary_arm.stats()),
            },
        }


def _arm_summary(stats: ArmStats) -> dict[str, Any]:
    return {
        "decisions": stats.decisions,
        "errors": stats.errors,
        "refusals": stats.refusals,
        "p95_ms": round(stats.p95_ms, 4),
    }


class GovernanceService:
    def __init__(
        self,
        ledger: LedgerService,
        packs: PackRepository,
        clock: Clock,
        home: Path,
        *,
        rollback: RollbackPolicy | None = None,
        schedule: CanarySchedule | None = None,
    ) -> None:
        self.ledger = ledger
        self.packs = packs
        self.clock = clock
        self.home = home / "policy"
        self.rollback_policy = rollback or RollbackPolicy()
        self.schedule = schedule
        self.check_every = 50  # canary decisions between SLO checks
        self._lock = threading.Lock()
        self._challengers: dict[str, Challenger] = {}
        self._refreshed = time.monotonic()
        self._load()

    # -- state --------------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> None:
        """Stages moved by another process (the CLI, another API worker) are read back at
        most once a second; this process's counters stay."""
        now = time.monotonic()
        if not force and now - self._refreshed < 1.0:
            return
        self._refreshed = now
        with self._lock:
            known = {n: c.seq for n, c in self._challengers.items()}
            self._load(keep=known)

    def _load(self, keep: Mapping[str, int] | None = None) -> None:
        """The live challengers, read back from the last stage entry per pack."""
        seen: set[str] = set()
        for name in self._pack_names_on_disk():
            entries = self.ledger.history(subject_of(name))
            if not entries:
                continue
            stages = [e for e in entries if e.kind == KIND]
            if not stages:
                continue
            last = stages[-1]
            if keep is not None and keep.get(name) == last.seq:
                seen.add(name)
                continue  # unchanged: keep this process's counters
            payload = last.payload
            stage = Stage(str(payload["stage"]))
            if stage in (Stage.RETIRED, Stage.ACTIVE):
                continue
            try:
                pack = load_pack(Path(str(payload["path"])))
            except InvalidInput:
                continue  # its stored copy is gone: nothing can be enforced from it
            if pack.digest != payload["digest"]:
                continue  # changed on disk since it was sealed: never run it
            self._challengers[name] = Challenger(
                pack, stage, str(payload["path"]), float(payload.get("percent", 0)), last.seq
            )
            self.packs.remember(pack)  # a decision it made replays by its digest
            seen.add(name)
        for name in [n for n in self._challengers if n not in seen]:
            del self._challengers[name]

    def _pack_names_on_disk(self) -> list[str]:
        try:
            return sorted(
                p.name for p in self.home.iterdir() if p.is_dir() and not p.name.startswith(".")
            )
        except OSError:
            return []

    def champion(self, name: str) -> Pack:
        pack = self.packs.get(name)
        if pack is None:
            raise NotFound(f"no active pack named {name!r}")
        return pack

    # -- transitions ------------------------------------------------------------------

    def propose(self, directory: Path, *, actor: str) -> dict[str, Any]:
        """A new version of an active pack, as a draft challenger (copied under the home,
        so later edits of `directory` change nothing)."""
        pack = load_pack(directory)
        champion = self.champion(pack.name)
        if pack.digest == champion.digest:
            raise Conflict(f"{pack.name} {pack.version} is the active version already")
        with self._lock:
            current = self._challengers.get(pack.name)
            if current is not None:
                raise ChallengerExists(
                    f"{pack.name} has a challenger in {current.stage} ({current.pack.version}); "
                    "retire or promote it first"
                )
            stored = (
                self.home / pack.name / f"{pack.version}-{pack.digest.removeprefix('sha256:')[:12]}"
            )
            if stored.exists():
                shutil.rmtree(stored)
            shutil.copytree(directory, stored, ignore=shutil.ignore_patterns("__pycache__", ".*"))
            copy = load_pack(stored)
            self.packs.remember(copy)
            challenger = Challenger(copy, Stage.DRAFT, str(stored))
            entry = self._seal(
                challenger, Stage.DRAFT, actor, previous=None, extra={"champion": champion.digest}
            )
            challenger.seq = entry
            self._challengers[pack.name] = challenger
            return self._status_of(pack.name, challenger)

    def upload(
        self,
        manifest: Mapping[str, Any],
        signature: Mapping[str, Any],
        files: Mapping[str, str],
        *,
        keyring: Keyring | None,
        actor: str,
        release: bool = False,
    ) -> dict[str, Any]:
        """A signed bundle sent over HTTP (governance/uploads.py): verified like one on disk,
        sealed whole, and each pack in it that differs from the active one proposed as a
        draft. Refused (nothing recorded) when any of it does not check out."""
        decoded = decode_files(files)
        directory = materialize(self.home, manifest, signature, decoded)
        if release:
            return self._release(directory, signature, decoded, keyring, actor)
        try:
            verified, dirs = verified_pack_dirs(directory, keyring)
            candidates = [(d, load_pack(d)) for d in dirs]
            changed = []
            for found, pack in candidates:
                if self.champion(pack.name).digest == pack.digest:
                    continue
                current = self._challengers.get(pack.name)
                if current is not None:
                    raise ChallengerExists(
                        f"{pack.name} has a challenger in {current.stage} "
                        f"({current.pack.version}); retire or promote it first"
                    )
                changed.append(found)
            if not changed:
                raise Conflict(
                    "every pack in the bundle is the active version already",
                    code=GovernanceCode.NOTHING_TO_PROPOSE,
                )
        except Exception:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        at = isoformat(self.clock.now())
        self.ledger.append(bundle_entry(verified, signature, decoded, actor=actor, at=at))
        proposals = [self.propose(found, actor=actor) for found in changed]
        return {
            "bundle": {
                "name": verified["name"],
                "version": verified["version"],
                "key_id": signature.get("key_id"),
            },
            "proposals": proposals,
        }

    def _release(
        self,
        directory: Path,
        signature: Mapping[str, Any],
        files: Mapping[str, bytes],
        keyring: Keyring | None,
        actor: str,
    ) -> dict[str, Any]:
        """The whole bundle released as the database source's next version (served by a
        kernel whose PAYGOD_PACKS_SOURCE is `database`, once it checks out there too)."""
        try:
            verified, dirs = verified_pack_dirs(directory, keyring)
            packs = [load_pack(d) for d in dirs]
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        at = isoformat(self.clock.now())
        entry = self.ledger.append(
            bundle_entry(verified, signature, files, actor=actor, at=at, subject=RELEASES)
        )
        return {
            "bundle": {
                "name": verified["name"],
                "version": verified["version"],
                "key_id": signature.get("key_id"),
                "released_seq": entry.seq,
                "packs": [
                    {"name": p.name, "version": p.version, "digest": p.digest} for p in packs
                ],
            },
            "proposals": [],
        }

    def promote(
        self,
        name: str,
        target: Stage,
        *,
        actor: str,
        percent: float | None = None,
        gate: str = "bayes",
        minimum_sample: int = 200,
    ) -> dict[str, Any]:
        with self._lock:
            challenger = self._get(name)
            check_transition(challenger.stage, target)
            extra: dict[str, Any] = {}
            if target is Stage.CANARY:
                if percent is None:
                    percent = self.schedule.steps[0] if self.schedule else 5.0
                if not 0 < percent <= 100:
                    raise InvalidInput("canary percentage must be within 0-100 (exclusive of 0)")
                result = self._gate(challenger, gate, minimum_sample)
                extra["gate"] = result.as_dict()
                if not result.passed:
                    raise Conflict(
                        f"the promotion gate did not pass: {result.reason}",
                        code=GovernanceCode.GATE_FAILED,
                    )
                challenger.percent = percent
            if target is Stage.ACTIVE:
                return self._activate(challenger, actor)
            previous = challenger.stage
            challenger.stage = target
            challenger.seq = self._seal(challenger, target, actor, previous=previous, extra=extra)
            if target is Stage.RETIRED:
                del self._challengers[name]
            return self._status_of(name, challenger)

    def set_canary_percent(self, name: str, percent: float, *, actor: str) -> dict[str, Any]:
        with self._lock:
            challenger = self._get(name)
            if challenger.stage is not Stage.CANARY:
                raise Conflict(
                    f"{name} is in {challenger.stage}, not canary", code=GovernanceCode.NOT_CANARY
                )
            if not 0 < percent <= 100:
                raise InvalidInput("canary percentage must be within 0-100 (exclusive of 0)")
            challenger.percent = percent
            challenger.seq = self._seal(
                challenger, Stage.CANARY, actor, previous=Stage.CANARY, extra={"step": "percent"}
            )
            return self._status_of(name, challenger)

    def rollback(
        self, name: str, *, actor: str, reason: str, breach: Breach | None = None
    ) -> dict[str, Any]:
        """Back to the champion in one step: the challenger is retired, nothing else moves."""
        with self._lock:
            challenger = self._get(name)
            return self._retire(challenger, actor, reason, breach)

    def _retire(
        self, challenger: Challenger, actor: str, reason: str, breach: Breach | None
    ) -> dict[str, Any]:
        previous = challenger.stage
        challenger.stage = Stage.RETIRED
        extra: dict[str, Any] = {"reason": reason, "rollback": True}
        if breach is not None:
            extra["breach"] = breach.as_dict()
            extra["canary"] = challenger.summary()["canary"]
        challenger.seq = self._seal(
            challenger, Stage.RETIRED, actor, previous=previous, extra=extra, rolled_back=True
        )
        self._challengers.pop(challenger.pack.name, None)
        return self._status_of(challenger.pack.name, challenger)

    def _activate(self, challenger: Challenger, actor: str) -> dict[str, Any]:
        """The challenger's files replace the champion's in the packs directory."""
        champion = self.champion(challenger.pack.name)
        if champion.path is None or self.packs.bundled or self.packs.keyring is not None:
            raise Conflict(
                "activation writes the packs directory; bundled packs and signed bundles are "
                "activated by shipping a new signed bundle (a database source: POST "
                "/v1/packs/bundles with release: true)",
                code=GovernanceCode.ACTIVATE_BY_BUNDLE,
            )
        target = champion.path
        staging = target.with_name(f".{target.name}.activating")
        if staging.exists():
            shutil.rmtree(staging)
        shutil.copytree(challenger.path, staging)
        backup = target.with_name(f".{target.name}.previous")
        if backup.exists():
            shutil.rmtree(backup)
        target.rename(backup)
        staging.rename(target)
        self.packs.refresh(force=True)
        previous = challenger.stage
        challenger.stage = Stage.ACTIVE
        challenger.seq = self._seal(
            challenger, Stage.ACTIVE, actor, previous=previous, extra={"replaced": champion.digest}
        )
        self._challengers.pop(challenger.pack.name, None)
        return self._status_of(challenger.pack.name, challenger)

    def challenger(self, name: str) -> Challenger:
        return self._get(name)

    def _get(self, name: str) -> Challenger:
        challenger = self._challengers.get(name)
        if challenger is None:
            raise NotFound(f"no challenger for pack {name!r}")
        return challenger

    def _gate(self, challenger: Challenger, test: str, minimum_sample: int) -> GateResult:
        """Reviewed outcomes decide: how often each side's verdict was the right one."""
        return promotion_gate(
            Proportion(challenger.challenger_right, challenger.reviewed),
            Proportion(challenger.champion_right, challenger.reviewed),
            test=test,
            minimum_sample=minimum_sample,
        )

    def _seal(
        self,
        challenger: Challenger,
        stage: Stage,
        actor: str,
        *,
        previous: Stage | None,
        extra: Mapping[str, Any],
        rolled_back: bool = False,
    ) -> int:
        now = self.clock.now()
        payload = {
            "pack": challenger.pack.name,
            "version": challenger.pack.version,
            "digest": challenger.pack.digest,
            "path": challenger.path,
            "stage": stage.value,
            "previous_stage": previous.value if previous else None,
            "percent": challenger.percent,
            "actor": actor,
            "at": isoformat(now),
            **extra,
        }
        event = EventEnvelope(
            event_type=EVENT_ROLLBACK if rolled_back else EVENT_STAGE,
            aggregate_id=challenger.pack.name,
            aggregate_type="policy",
            tenant_id="*",
            payload=payload,
            occurred_at=now,
            recorded_at=now,
        )
        entry = self.ledger.append(
            EntryDraft(
                kind=KIND,
                subject=subject_of(challenger.pack.name),
                payload=payload,
                tenant_id="*",
                events=(event,),
            )
        )
        return entry.seq

    # -- reviewed outcomes ------------------------------------------------------------

    def record_outcome(
        self,
        name: str,
        *,
        decision_id: str,
        champion: str,
        challenger: str,
        correct: str,
        actor: str,
    ) -> dict[str, Any]:
        """A reviewer's verdict on a shadowed decision: which side was right counts toward
        the promotion gate (sealed, so the gate's inputs can be recounted)."""
        if correct not in {v.value for v in Verdict}:
            raise InvalidInput(f"correct must be one of allow, flag, deny, error; got {correct!r}")
        with self._lock:
            current = self._get(name)
            current.reviewed += 1
            current.challenger_right += challenger == correct
            current.champion_right += champion == correct
            now = self.clock.now()
            self.ledger.append(
                EntryDraft(
                    kind=OUTCOME_KIND,
                    subject=subject_of(name),
                    payload={
                        "pack": name,
                        "digest": current.pack.digest,
                        "decision_id": decision_id,
                        "champion": champion,
                        "challenger": challenger,
                        "correct": correct,
                        "actor": actor,
                        "at": isoformat(now),
                        "outcome_id": new_id(),
                    },
                    tenant_id="*",
                )
            )
            return self._status_of(name, current)

    # -- the hot path -----------------------------------------------------------------

    def route(
        self, tenant_id: str, subject: str, packs: Sequence[Pack]
    ) -> tuple[list[Pack], list[Pack]]:
        self.refresh()
        if not self._challengers:
            return list(packs), []
        deciding: list[Pack] = []
        shadows: list[Pack] = []
        for pack in packs:
            challenger = self._challengers.get(pack.name)
            if challenger is None or challenger.stage is Stage.DRAFT:
                deciding.append(pack)
            elif challenger.stage is Stage.SHADOW:
                deciding.append(pack)
                shadows.append(challenger.pack)
            elif canary_arm(tenant_id, subject, pack.name, challenger.percent):
                deciding.append(challenger.pack)
            else:
                deciding.append(pack)
        return deciding, shadows

    def shadow(
        self, shadows: Sequence[Pack], input_doc: Mapping[str, Any], measures: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """What each shadowed challenger would decide on the same input and measurements
        (sealed with the decision; it decides nothing)."""
        found: list[dict[str, Any]] = []
        for pack in shadows:
            started = time.perf_counter()
            theirs = evaluate(pack, input_doc, measures, trace=False)
            found.append(
                {
                    "pack": pack.name,
                    "version": pack.version,
                    "digest": pack.digest,
                    "decision": theirs.verdict.value,
                    "rule": theirs.rule,
                    "reason": theirs.reason,
                    "elapsed_ms": round((time.perf_counter() - started) * 1000, 4),
                }
            )
        return found

    def record(
        self,
        decision_id: str,
        deciding: Sequence[Pack],
        result: SetResult,
        shadowed: Sequence[Mapping[str, Any]],
        elapsed_ms: float,
    ) -> None:
        """A sealed decision's part in the statistics: agreement of each shadow with its
        champion, and the canary's arms (which may roll it back)."""
        if not self._challengers:
            return
        by_name = {r.pack: r for r in result.results}
        for record in shadowed:
            challenger = self._challengers.get(str(record["pack"]))
            champion = by_name.get(str(record["pack"]))
            if challenger is None or champion is None or record["digest"] != challenger.pack.digest:
                continue
            ours, theirs = champion.verdict.value, str(record["decision"])
            with self._lock:
                challenger.compared += 1
                challenger.agreed += ours == theirs
                challenger.confusion[(ours, theirs)] += 1
                challenger.shadow_ms += float(record.get("elapsed_ms", 0.0))
                if ours != theirs:
                    challenger.differing.append(
                        {
                            "decision_id": decision_id,
                            "champion": {
                                "decision": ours,
                                "rule": champion.rule,
                                "reason": champion.reason,
                            },
                            "challenger": {
                                "decision": theirs,
                                "rule": record["rule"],
                                "reason": record["reason"],
                            },
                        }
                    )
        self._watch_canaries(deciding, result, elapsed_ms)

    def _watch_canaries(
        self, deciding: Sequence[Pack], result: SetResult, elapsed_ms: float
    ) -> None:
        deciding_digests = {p.digest for p in deciding}
        for name, challenger in list(self._challengers.items()):
            if challenger.stage is not Stage.CANARY:
                continue
            verdict = next((r.verdict.value for r in result.results if r.pack == name), None)
            if verdict is None:
                continue
            breach = None
            with self._lock:
                on_canary = challenger.pack.digest in deciding_digests
                (challenger.canary_arm if on_canary else challenger.champion_arm).add(
                    verdict, elapsed_ms
                )
                challenger.canary_decisions += on_canary
                if challenger.canary_decisions % self.check_every == 0:
                    breach = self.rollback_policy.breach(
                        challenger.champion_arm.stats(), challenger.canary_arm.stats()
                    )
                if breach is not None and name in self._challengers:
                    self._retire(
                        challenger, "paygod:slo-guard", f"SLO breached: {breach.slo}", breach
                    )
                    continue
                if self.schedule is not None:
                    step = self.schedule.percent_after(challenger.canary_decisions)
                    if step > challenger.percent:
                        challenger.percent = step
                        challenger.seq = self._seal(
                            challenger,
                            Stage.CANARY,
                            "paygod:canary-schedule",
                            previous=Stage.CANARY,
                            extra={"step": "percent"},
                        )

    # -- reads ------------------------------------------------------------------------

    def _status_of(self, name: str, challenger: Challenger | None) -> dict[str, Any]:
        champion = self.packs.get(name)
        return {
            "pack": name,
            "champion": None
            if champion is None
            else {"version": champion.version, "digest": champion.digest},
            "challenger": None if challenger is None else challenger.summary(),
        }

    def status(self, name: str | None = None) -> list[dict[str, Any]]:
        names = (
            [name]
            if name is not None
            else sorted({p.name for p in self.packs.packs()} | set(self._challengers))
        )
        return [self._status_of(n, self._challengers.get(n)) for n in names]

    def history(self, name: str) -> list[dict[str, Any]]:
        return [
            {"seq": e.seq, "kind": e.kind, "recorded_at": isoformat(e.recorded_at), **e.payload}
            for e in self.ledger.history(subject_of(name))
        ]
