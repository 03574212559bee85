"""`paygod run`: one pack, one input, a self-verifying bundle of artifacts.

Writes plan.json, findings.json, ledger.jsonl, manifest.json and receipt.json in the
layout of the original paygod/v1 kernel. With PAYGOD_CLOCK set nothing depends on wall
time or randomness, so two runs give byte-identical files.

Bundle digest (as the original): sha256 of the UTF-8 text made of one
`name=<sha256 hex>\\n` line per file, files sorted by name.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from paygod.canonical import canonicalize, sha256_hex
from paygod.decisions.engine import evaluate
from paygod.decisions.model import Pack, PackResult, Verdict
from paygod.decisions.packs import load_pack, validate_input
from paygod.decisions.schemas import CASES_SCHEMA, PACK_SCHEMA
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import InvalidInput
from paygod.kernel.jsonio import read_json_file

GENESIS = "0" * 64
SPEC_VERSION = "0.1.0"


def interchange_entry(
    index: int, timestamp: str, previous_hash: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """One ledger.jsonl line (DESIGN.md §4): record_hash over data, previous_hash, timestamp."""
    from paygod.ledger.verifier import record_hash as interchange_hash

    record_hash = interchange_hash(dict(data), previous_hash, timestamp)
    return {
        "entry_index": index,
        "timestamp": timestamp,
        "previous_hash": previous_hash,
        "data": dict(data),
        "record_hash": record_hash,
    }


def _write_json(path: Path, value: Any) -> None:
    path.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")


def _file_entry(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"name": path.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def bundle_digest(files: list[dict[str, Any]]) -> str:
    text = "".join(f"{f['name']}={f['sha256']}\n" for f in files)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def schema_manifest_sha256() -> str:
    """Binds a receipt to the exact schemas this kernel validated packs with."""
    return sha256_hex({"pack": PACK_SCHEMA, "cases": CASES_SCHEMA})


def _ledger_tail(path: Path) -> tuple[str, int]:
    if not path.is_file():
        return GENESIS, 0
    last: str | None = None
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            last = line
    if last is None:
        return GENESIS, 0
    entry = orjson.loads(last)
    return str(entry["record_hash"]), int(entry["entry_index"]) + 1


@dataclass(frozen=True)
class RunResult:
    out: Path
    result: PackResult
    receipt: dict[str, Any]


def run_pack(pack_dir: Path, input_file: Path, out: Path, clock: Clock) -> RunResult:
    pack: Pack = load_pack(pack_dir)
    input_doc = read_json_file(input_file)
    problems = validate_input(pack, input_doc)
    if problems:
        raise InvalidInput(f"{input_file} does not match the pack's inputs", errors=problems)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"{out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    run = _Run(
        pack_dir,
        input_file,
        {
            "name": pack.name,
            "version": pack.version,
            "path": str(pack_dir),
            "digest_sha256": pack.digest,
        },
        isoformat(clock.now()),
        hashlib.sha256(canonicalize(input_doc)).hexdigest(),
        os.environ.get("PAYGOD_CLOCK") or "unset",
    )
    plan_path = out / "plan.json"
    _write_json(plan_path, run.plan())
    result = evaluate(pack, input_doc)
    findings_path = out / "findings.json"
    _write_json(findings_path, run.findings(result))
    ledger_path = out / "ledger.jsonl"
    previous, index = _ledger_tail(ledger_path)
    with ledger_path.open("ab") as handle:
        line = interchange_entry(index, run.ts, previous, run.ledger_data(result))
        handle.write(orjson.dumps(line) + b"\n")
    files = sorted(
        (_file_entry(p) for p in (plan_path, findings_path, ledger_path)),
        key=lambda f: str(f["name"]),
    )
    manifest_path = out / "manifest.json"
    _write_json(manifest_path, run.manifest(files))
    receipt_path = out / "receipt.json"
    first_manifest_sha = _file_entry(manifest_path)["sha256"]
    _write_json(receipt_path, run.receipt(result, "pending", first_manifest_sha, []))
    # Two phases, as the original: the receipt joins the bundle, then the manifest is
    # rewritten to list it and the receipt is rewritten to bind the final manifest.
    final_files = sorted([*files, _file_entry(receipt_path)], key=lambda f: str(f["name"]))
    _write_json(manifest_path, run.manifest(final_files))
    manifest_sha = _file_entry(manifest_path)["sha256"]
    receipt = run.receipt(result, bundle_digest(final_files), manifest_sha, final_files)
    _write_json(receipt_path, receipt)
    return RunResult(out, result, receipt)


@dataclass(frozen=True)
class _Run:
    """One `paygod run`: the documents of its bundle, in the original kernel's layout."""

    pack_dir: Path
    input_file: Path
    pack: dict[str, Any]
    ts: str
    input_hash: str
    clock_value: str

    def plan(self) -> dict[str, Any]:
        return {
            "api_version": "paygod/v1",
            "kind": "PlanReport",
            "generated_at": self.ts,
            "pack": self.pack,
            "input": {"path": str(self.input_file), "canonical_hash": self.input_hash},
            "settings": {},
        }

    def findings(self, result: PackResult) -> dict[str, Any]:
        findings: list[dict[str, Any]] = []
        if result.verdict in (Verdict.FLAG, Verdict.ERROR):
            flagged = result.verdict is Verdict.FLAG
            findings.append(
                {
                    "kind": "flag",
                    "severity": "medium" if flagged else "high",
                    "code": "PACK_FLAG" if flagged else "EVAL_ERROR",
                    "message": result.reason,
                    "rule_name": result.rule or "",
                    "evidence_refs": [],
                }
            )
        return {
            "api_version": "paygod/v1",
            "kind": "FindingsReport",
            "generated_at": self.ts,
            "pack": self.pack,
            "findings": findings,
        }

    def ledger_data(self, result: PackResult) -> dict[str, Any]:
        return {
            "verdict": result.verdict.value,
            "rule_name": result.rule or "",
            "reason": result.reason,
            "pack": self.pack,
            "input_hash": self.input_hash,
            "evidence_refs": [],
        }

    def manifest(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "api_version": "paygod/v1",
            "kind": "Manifest",
            "generated_at": self.ts,
            "pack": self.pack,
            "input": {"canonical_hash": self.input_hash},
            "bundle": {
                "algorithm": "sha256",
                "digest_method": "sha256(join_lines(name='name=sha256' sorted by name))",
                "file_count": len(entries),
                "bundle_digest": bundle_digest(entries),
            },
            "files": entries,
        }

    def receipt(
        self, result: PackResult, digest: str, manifest_sha: str, entries: list[dict[str, Any]]
    ) -> dict[str, Any]:
        # The receipt's verdict vocabulary is allow|deny|error: a flag does not block the
        # action, so it is receipted as allow and the flag itself lives in findings.json.
        flagged = result.verdict is Verdict.FLAG
        replay = (
            f"PAYGOD_CLOCK={self.clock_value} paygod run --pack {self.pack_dir} "
            f"--input {self.input_file} --out <OUT_DIR>"
        )
        return {
            "api_version": "paygod/v1",
            "kind": "Receipt",
            "spec_version": SPEC_VERSION,
            "generated_at": self.clock_value,
            "clock": {"value": self.clock_value, "source": "env:PAYGOD_CLOCK"},
            "canonicalization": {
                "json": "rfc8785",
                "schema_manifest_sha256": schema_manifest_sha256(),
            },
            "runner": {
                "image": os.environ.get("PAYGOD_RUNNER_IMAGE", "paygod/runner:dev"),
                "image_digest": os.environ.get("PAYGOD_RUNNER_DIGEST", "unknown"),
            },
            "pack": self.pack,
            "input": {"canonical_hash": self.input_hash},
            "bundle": {"bundle_digest": digest, "manifest_sha256": manifest_sha, "files": entries},
            "verdict": {
                "value": "allow" if flagged else result.verdict.value,
                "rule_name": result.rule or "",
                "reason": f"flagged for review: {result.reason}" if flagged else result.reason,
            },
            "replay": {"command": replay},
        }


def verify_interchange(path: Path) -> list[str]:
    """Problems in a ledger.jsonl file (DESIGN.md §4 form); empty when the chain holds.

    The ledger module's standalone verifier does the work, so `paygod validate` and
    `paygod ledger verify` can never disagree about a file.
    """
    from paygod.ledger.verifier import verify_jsonl

    try:
        report = verify_jsonl(path)
    except OSError as exc:
        return [f"cannot read {path}: {exc.strerror or exc}"]
    except ValueError as exc:
        return [str(exc)]
    return [str(f.get("message", f)) for f in report.get("findings", [])]
