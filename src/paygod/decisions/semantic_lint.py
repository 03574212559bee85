"""Semantic lint: what the rules of a pack, or of packs decided together, can never do.

Reasoned with Z3 over the conditions' formulas (`semantics.py`):

- a condition that no input makes true, or one that reads input yet every input makes
  true;
- a rule that never fires because, whenever its condition holds, an earlier rule of the
  same pack matches first (first match wins);
- across packs decided together (the strictest verdict wins): an `allow` or `flag` rule
  that can never take effect, because whenever it fires another pack denies.

An "unsatisfiable" answer is a proof; every finding that rests on an input names one
(the witness), which the real engine has evaluated to confirm it. A check the solver
cannot settle within its budget reports nothing rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from paygod.decisions.conditions import EvaluationError
from paygod.decisions.engine import first_match
from paygod.decisions.model import Pack, Rule, Verdict
from paygod.decisions.packs import validate_input
from paygod.decisions.semantics import Encoder, env_of, schema_assumptions, witness_input

CHECK_BUDGET_MS = 2000


@dataclass(frozen=True)
class SemanticFinding:
    pack: str
    rule: str
    index: int
    message: str
    witness: dict[str, Any] | None = None
    related: tuple[str, ...] = field(default=())


class _Solver:
    """One incremental solver over an encoder's definitions; each check runs in its own
    scope, so only what `fix` adds stays."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.solver = z3.Solver()
        self.solver.set(timeout=CHECK_BUDGET_MS)
        self._added = 0
        self._plain: list[z3.BoolRef] | None = None

    def _sync(self) -> None:
        constraints = self.encoder.constraints
        if self._added < len(constraints):
            self.solver.add(*constraints[self._added :])
            self._added = len(constraints)

    def fix(self, fact: z3.BoolRef) -> None:
        self._sync()
        self.solver.add(fact)

    def check(
        self, *formulas: z3.BoolRef, assuming: Sequence[z3.BoolRef] = ()
    ) -> tuple[z3.CheckSatResult, z3.ModelRef | None, list[z3.BoolRef]]:
        """sat/unsat/unknown, a model when sat, the assumptions in the core when unsat."""
        self._sync()
        self.solver.push()
        try:
            self.solver.add(*formulas)
            result = self.solver.check(*assuming)
            if result == z3.sat:
                return result, self.solver.model(), []
            core = list(self.solver.unsat_core()) if result == z3.unsat and assuming else []
            return result, None, core
        finally:
            self.solver.pop()

    def unsat(self, *formulas: z3.BoolRef, assuming: Sequence[z3.BoolRef] = ()) -> bool:
        return bool(self.check(*formulas, assuming=assuming)[0] == z3.unsat)

    def sat(self, *formulas: z3.BoolRef, assuming: Sequence[z3.BoolRef] = ()) -> bool:
        return bool(self.check(*formulas, assuming=assuming)[0] == z3.sat)

    def witness(
        self, *formulas: z3.BoolRef, assuming: Sequence[z3.BoolRef] = ()
    ) -> dict[str, Any] | None:
        """An input satisfying `formulas`, in the plainest form the solver allows (whole
        numbers, no numeric strings) before any other."""
        if self._plain is None:
            self._plain = self.encoder.plain()
        for extra in (self._plain, []):
            model = self.check(*formulas, *extra, assuming=assuming)[1]
            if model is not None:
                return witness_input(self.encoder, model)
        return None


@dataclass
class _Encoded:
    """A pack's rules as formulas, with a guard literal per rule meaning "this rule did
    not match" (asserted as an implication, switched on by assuming the guard)."""

    pack: Pack
    formulas: list[z3.BoolRef | None]
    guards: list[z3.BoolRef | None]

    def before(self, index: int) -> list[z3.BoolRef]:
        """Guards of the rules before `index`: together, "no earlier rule matched" (a rule
        the encoder could not translate is left out, which only widens the set)."""
        return [g for g in self.guards[:index] if g is not None]

    def verdict(self, codes: Mapping[Verdict, int]) -> z3.ArithRef:
        """The pack's verdict as one term: first match wins, no match is `error`."""
        verdict: z3.ArithRef = z3.IntVal(codes[Verdict.ERROR])
        for rule, formula in reversed(list(zip(self.pack.rules, self.formulas, strict=True))):
            if formula is None:
                verdict = z3.FreshInt("verdict")  # from here on: unknown
            else:
                verdict = z3.If(formula, z3.IntVal(codes[rule.decision]), verdict)
        return verdict


_CODES = {v: i for i, v in enumerate(Verdict)}


def _encode(encoder: Encoder, solver: _Solver, pack: Pack) -> _Encoded:
    formulas: list[z3.BoolRef | None] = []
    guards: list[z3.BoolRef | None] = []
    for rule in pack.rules:
        try:
            formula = encoder.condition(rule.condition.source)
        except (RecursionError, z3.Z3Exception):
            formulas.append(None)
            guards.append(None)
            continue
        formula = z3.simplify(formula)
        guard = z3.Bool(f"{pack.name}/{rule.index}#missed")
        solver.fix(z3.Implies(guard, z3.Not(formula)))
        formulas.append(formula)
        guards.append(guard)
    return _Encoded(pack, formulas, guards)


def _prepare(packs: Sequence[Pack]) -> tuple[Encoder, _Solver, list[_Encoded]]:
    encoder = Encoder()
    solver = _Solver(encoder)
    encoded = [_encode(encoder, solver, pack) for pack in packs]
    # Rules only ever see inputs their packs' schemas accepted (checked before any rule
    # runs), so those schemas are facts here, not guesses.
    for pack in packs:
        schemas = {i.name: (i.schema, i.required) for i in pack.inputs}
        encoder.constraints.extend(schema_assumptions(encoder, schemas))
    return encoder, solver, encoded


def _matches(rule: Rule, doc: dict[str, Any] | None) -> bool:
    if doc is None:
        return False
    try:
        return rule.condition.test(env_of(doc))
    except EvaluationError:  # an evaluation error is not a confirmation either way
        return False


def _first(pack: Pack, doc: dict[str, Any]) -> tuple[Verdict, str | None]:
    return first_match(pack, env_of(doc))  # an evaluation error is its own verdict


def lint_rules(pack: Pack) -> list[SemanticFinding]:
    """Never-true, always-true and shadowed rules of one pack."""
    _encoder, solver, (encoded,) = _prepare([pack])
    findings: list[SemanticFinding] = []
    for rule, formula in zip(pack.rules, encoded.formulas, strict=True):
        if formula is None:
            continue
        earlier = encoded.before(rule.index)
        result, _model, core = solver.check(formula, assuming=earlier)
        if result == z3.unsat:
            witness = solver.witness(formula)
            if witness is None and solver.unsat(formula):
                findings.append(
                    SemanticFinding(
                        pack.name,
                        rule.name,
                        rule.index,
                        "condition is always false: no input its pack accepts satisfies it",
                    )
                )
                continue
            findings.append(_shadowed(encoded, solver, rule, core, witness))
        if _always_true(solver, pack, rule, formula):
            findings.append(
                SemanticFinding(
                    pack.name,
                    rule.name,
                    rule.index,
                    "condition is always true: it reads input but every input satisfies it",
                    _EMPTY if _matches(rule, _EMPTY) else None,
                )
            )
    return findings


_EMPTY: dict[str, Any] = {"input": {}, "measure": {}}


def _always_true(solver: _Solver, pack: Pack, rule: Rule, formula: z3.BoolRef) -> bool:
    """A condition that reads input yet holds for every valid input. Where the empty input
    is valid, a condition false on it (most are) is refuted without asking the solver."""
    if rule.condition.constant is not None:
        return False
    if not validate_input(pack, {}) and not _matches(rule, _EMPTY):
        return False
    return solver.unsat(z3.Not(formula))


def _shadowed(
    encoded: _Encoded,
    solver: _Solver,
    rule: Rule,
    core: list[z3.BoolRef],
    witness: dict[str, Any] | None,
) -> SemanticFinding:
    """`rule` is reachable by no input although its condition holds on some: the earlier
    rules named by the unsat core pre-empt it."""
    pack = encoded.pack
    in_core = {g.get_id() for g in core}
    covering = [
        other
        for other, guard in zip(pack.rules[: rule.index], encoded.guards, strict=False)
        if guard is not None and guard.get_id() in in_core
    ]
    confirmed = witness if witness is not None and _matches(rule, witness) else None
    if confirmed is not None and _first(pack, confirmed)[1] == rule.name:
        confirmed = None
    names = tuple(o.name for o in covering)
    if len(covering) == 1:
        only = covering[0]
        f_only = encoded.formulas[only.index]
        if only.condition.source.strip() == rule.condition.source.strip():
            message = f"never fires: rule {only.name!r} has the same condition"
        elif f_only is not None and (
            only.condition.constant is True or _always_true(solver, pack, only, f_only)
        ):
            message = f"never fires: rule {only.name!r} before it always matches"
        else:
            message = f"never fires: whenever it matches, rule {only.name!r} matches first"
    else:
        listed = ", ".join(repr(n) for n in names)
        message = f"never fires: whenever it matches, an earlier rule matches first ({listed})"
    return SemanticFinding(pack.name, rule.name, rule.index, message, confirmed, names)


def lint_set(packs: Sequence[Pack]) -> list[SemanticFinding]:
    """Rules of packs decided together that can never take effect: an allow or flag that
    another pack's deny always overrules (the strictest verdict wins)."""
    if len(packs) < 2:
        return []
    _encoder, solver, encoded = _prepare(packs)
    verdicts = [e.verdict(_CODES) for e in encoded]
    deny = _CODES[Verdict.DENY]
    findings: list[SemanticFinding] = []
    for mine in encoded:
        for rule, formula in zip(mine.pack.rules, mine.formulas, strict=True):
            if rule.decision not in (Verdict.ALLOW, Verdict.FLAG) or formula is None:
                continue
            reached = mine.before(rule.index)
            if not solver.sat(formula, assuming=reached):
                continue  # never fires at all: lint_rules says so
            for theirs, verdict in zip(encoded, verdicts, strict=True):
                if theirs is mine or not solver.unsat(formula, verdict != deny, assuming=reached):
                    continue
                findings.append(_overruled(solver, mine, rule, formula, theirs))
                break
    return findings


def _overruled(
    solver: _Solver, mine: _Encoded, rule: Rule, formula: z3.BoolRef, theirs: _Encoded
) -> SemanticFinding:
    reached = mine.before(rule.index)
    names = tuple(
        f"{theirs.pack.name}/{other.name}"
        for other, f in zip(theirs.pack.rules, theirs.formulas, strict=True)
        if other.decision == Verdict.DENY
        and f is not None
        and solver.sat(formula, f, assuming=[*reached, *theirs.before(other.index)])
    )
    doc = solver.witness(formula, assuming=reached)
    confirmed = None
    if (
        doc is not None
        and _first(mine.pack, doc)[1] == rule.name
        and _first(theirs.pack, doc)[0] == Verdict.DENY
    ):
        confirmed = doc
    message = (
        f"contradicts pack {theirs.pack.name!r}: whenever this {rule.decision.value} fires, "
        f"{', '.join(repr(n) for n in names)} denies (the strictest verdict wins)"
    )
    return SemanticFinding(mine.pack.name, rule.name, rule.index, message, confirmed, names)


@dataclass(frozen=True)
class VerdictChange:
    """Inputs on which two versions of a pack decide differently."""

    before: Verdict
    after: Verdict
    witness: dict[str, Any] | None
    rules: tuple[str | None, str | None]  # the deciding rule in each version, on the witness

    def as_dict(self) -> dict[str, Any]:
        return {
            "before": self.before.value,
            "after": self.after.value,
            "rules": {"before": self.rules[0], "after": self.rules[1]},
            "witness": self.witness,
        }


def diff_verdicts(before: Pack, after: Pack) -> list[VerdictChange]:
    """Every pair of verdicts (before -> after) some valid input moves between, each with a
    witness the real engine confirmed. Empty when the versions decide alike everywhere."""
    _encoder, solver, (old, new) = _prepare([before, after])
    v_old, v_new = old.verdict(_CODES), new.verdict(_CODES)
    changes: list[VerdictChange] = []
    if solver.unsat(v_old != v_new):
        return changes
    for a in Verdict:
        for b in Verdict:
            moved = [v_old == _CODES[a], v_new == _CODES[b]]
            if a == b or not solver.sat(*moved):
                continue
            doc = solver.witness(*moved)
            rules: tuple[str | None, str | None] = (None, None)
            if doc is not None:
                (va, ra), (vb, rb) = _first(before, doc), _first(after, doc)
                if (va, vb) == (a, b):
                    rules = (ra, rb)
                else:
                    doc = None
            changes.append(VerdictChange(a, b, doc, rules))
    return changes
