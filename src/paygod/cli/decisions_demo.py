"""`paygod demo`: a guided tour of the decision loop in a temporary home.

Starts an embedded kernel (SQLite under a temporary PAYGOD_HOME, bundled packs),
submits realistic agent payments that are allowed, denied, flagged and refused,
verifies the ledger and prints what happened and why.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Column

from paygod.cli.output import table
from paygod.kernel.errors import PaygodError


def _payment(amount: int, rail: str, verified: bool = True, cp: str = "acme") -> dict[str, Any]:
    return {
        "amount_minor": amount,
        "currency": "EUR",
        "rail": rail,
        "counterparty": {"ref": f"urn:paygod:counterparty:{cp}", "verified": verified},
    }


SCENARIOS: list[tuple[str, dict[str, Any]]] = [
    (
        "agent pays a verified supplier 49.99 by card",
        {"input": {"payment": _payment(4999, "card")}},
    ),
    (
        "agent pays an unverified counterparty",
        {"input": {"payment": _payment(12000, "sepa", verified=False, cp="new-shop")}},
    ),
    (
        "agent tries 6,000.00 on a card (rail limit 5,000.00)",
        {"input": {"payment": _payment(600000, "card")}},
    ),
    (
        "agent wires 12,000.00 to a verified supplier",
        {"input": {"payment": _payment(1200000, "wire")}},
    ),
    (
        "payment with a high risk score (two packs decide, strictest wins)",
        {"input": {"payment": _payment(2500, "sepa"), "risk": {"score": 0.82}}},
    ),
    (
        "cross-border transfer of personal data without a mechanism",
        {
            "input": {
                "data_transfer": {
                    "contains_personal_data": True,
                    "source_region": "EU",
                    "target_region": "US",
                }
            }
        },
    ),
    (
        "malformed request: amount as a string",
        {"input": {"payment": {**_payment(100, "sepa"), "amount_minor": "100"}}},
    ),
    (
        "raw personal data in the context (must be a reference)",
        {"input": {"payment": _payment(100, "sepa")}, "context": {"payer": "jane@example.com"}},
    ),
]


def run_demo(console: Console, home: Path | None = None) -> bool:
    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="paygod-demo-") as tmp:
        root = home or Path(tmp)
        settings = load_settings(home=root / "home", packs=root / "no-packs-here")
        kernel = build_kernel(settings)
        try:
            console.print(
                f"[bold]Paygod demo[/bold]: embedded kernel in {settings.home}, "
                f"packs: {', '.join(p.name for p in kernel.decisions.packs.packs())}\n"
            )
            rows: list[tuple[str, ...]] = []
            counts: dict[str, int] = {}
            for number, (title, request) in enumerate(SCENARIOS, start=1):
                try:
                    result = kernel.decisions.decide(
                        subject="urn:paygod:agent:procurement-bot",
                        context=request.get("context", {"channel": "demo"}),
                        input=request["input"],
                        idempotency_key=f"demo-{number}",
                        tenant_id=settings.tenant,
                    )
                except PaygodError as exc:
                    where = exc.errors[0].pointer if exc.errors else ""
                    why = exc.errors[0].message if exc.errors else exc.detail
                    counts["refused"] = counts.get("refused", 0) + 1
                    rows.append((str(number), title, "[magenta]refused[/magenta]", where, why, "-"))
                    continue
                verdict = result["decision"]
                counts[verdict] = counts.get(verdict, 0) + 1
                colour = {"allow": "green", "deny": "red", "flag": "yellow"}.get(verdict, "white")
                rows.append(
                    (
                        str(number),
                        title,
                        f"[{colour}]{verdict}[/{colour}]",
                        f"{result['pack']} / {result['rule']}",
                        result["reason"],
                        str(result["ledger"]["seq"]),
                    )
                )
            right = {"#", "seq"}
            columns = ("#", "request", "verdict", "pack / rule", "why", "seq")
            console.print(
                table([Column(c, justify="right" if c in right else "left") for c in columns], rows)
            )
            report = kernel.ledger.verify()
            ok = bool(getattr(report, "ok", False))
            size = kernel.ledger.size
            replays = [
                kernel.decisions.replay(e.seq)["identical"]
                for e in kernel.ledger.iter_entries()
                if e.kind == "decision"
            ]
            summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            console.print(f"\n{summary}.")
            console.print(
                f"Ledger: {size} entries, verification "
                + ("[green]passed[/green]" if ok else "[red]FAILED[/red]")
                + f"; {sum(replays)}/{len(replays)} decisions replay identically."
            )
            console.print(
                "Refused requests recorded nothing. Try: paygod serve, then "
                "POST /v1/decisions with an Idempotency-Key header."
            )
            return ok and all(replays)
        finally:
            kernel.close()
