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
    clock_value = os.environ.get("PAYGOD_CLOCK") or "unset"
    run_ts = isoformat(clock.now())
    input_hash = hashlib.sha256(canonicalize(input_doc)).hexdigest()
    pack_obj = {
        "name": pack.name,
        "version": pack.version,
        "path": str(pack_dir),
        "digest_sha256": pack.digest,
    }

    plan_path = out / "plan.json"
    _write_json(
        plan_path,
        {
            "api_version": "paygod/v1",
            "kind": "PlanReport",
            "generated_at": run_ts,
            "pack": pack_obj,
            "input": {"path": str(input_file), "canonical_hash": input_hash},
            "settings": {},
        },
    )

    result = evaluate(pack, input_doc)
    findings: list[dict[str, Any]] = []
    if result.verdict is Verdict.FLAG:
        findings.append(
            {
                "kind": "flag",
                "severity": "medium",
                "code": "PACK_FLAG",
                "message": result.reason,
                "rule_name": result.rule or "",
                "evidence_refs": [],
            }
        )
    elif result.verdict is Verdict.ERROR:
        findings.append(
            {
                "kind": "flag",
                "severity": "high",
                "code": "EVAL_ERROR",
                "message": result.reason,
                "rule_name": result.rule or "",
                "evidence_refs": [],
            }
        )
    findings_path = out / "findings.json"
    _write_json(
        findings_path,
        {
            "api_version": "paygod/v1",
            "kind": "FindingsReport",
            "generated_at": run_ts,
            "pack": pack_obj,
            "findings": findings,
        },
    )

    ledger_path = out / "ledger.jsonl"
    previous, index = _ledger_tail(ledger_path)
    data: dict[str, Any] = {
        "verdict": result.verdict.value,
        "rule_name": result.rule or "",
        "reason": result.reason,
        "pack": pack_obj,
        "input_hash": input_hash,
        "evidence_refs": [],
    }
    with ledger_path.open("ab") as handle:
        handle.write(orjson.dumps(interchange_entry(index, run_ts, previous, data)) + b"\n")

    files = sorted(
        (_file_entry(p) for p in (plan_path, findings_path, ledger_path)),
        key=lambda f: str(f["name"]),
    )
    runner_image = os.environ.get("PAYGOD_RUNNER_IMAGE", "paygod/runner:dev")
    runner_digest = os.environ.get("PAYGOD_RUNNER_DIGEST", "unknown")
    replay = (
        f"PAYGOD_CLOCK={clock_value} paygod run --pack {pack_dir} --input {input_file} "
        "--out <OUT_DIR>"
    )
    # The receipt's verdict vocabulary is allow|deny|error: a flag does not block the
    # action, so it is receipted as allow and the flag itself lives in findings.json.
    receipt_value = "allow" if result.verdict is Verdict.FLAG else result.verdict.value
    receipt_reason = (
        f"flagged for review: {result.reason}" if result.verdict is Verdict.FLAG else result.reason
    )

    def manifest_doc(entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "api_version": "paygod/v1",
            "kind": "Manifest",
            "generated_at": run_ts,
            "pack": pack_obj,
            "input": {"canonical_hash": input_hash},
            "bundle": {
                "algorithm": "sha256",
                "digest_method": "sha256(join_lines(name='name=sha256' sorted by name))",
                "file_count": len(entries),
                "bundle_digest": bundle_digest(entries),
            },
            "files": entries,
        }

    def receipt_doc(digest: str, manifest_sha: str, entries: list[dict[str, Any]]) -> Any:
        return {
            "api_version": "paygod/v1",
            "kind": "Receipt",
            "spec_version": SPEC_VERSION,
            "generated_at": clock_value,
            "clock": {"value": clock_value, "source": "env:PAYGOD_CLOCK"},
            "canonicalization": {
                "json": "rfc8785",
                "schema_manifest_sha256": schema_manifest_sha256(),
            },
            "runner": {"image": runner_image, "image_digest": runner_digest},
            "pack": pack_obj,
            "input": {"canonical_hash": input_hash},
            "bundle": {"bundle_digest": digest, "manifest_sha256": manifest_sha, "files": entries},
            "verdict": {
                "value": receipt_value,
                "rule_name": result.rule or "",
                "reason": receipt_reason,
            },
            "replay": {"command": replay},
        }

    manifest_path = out / "manifest.json"
    _write_json(manifest_path, manifest_doc(files))
    receipt_path = out / "receipt.json"
    first_manifest_sha = _file_entry(manifest_path)["sha256"]
    _write_json(receipt_path, receipt_doc("pending", first_manifest_sha, []))
    # Two phases, as the original: the receipt joins the bundle, then the manifest is
    # rewritten to list it and the receipt is rewritten to bind the final manifest.
    final_files = sorted([*files, _file_entry(receipt_path)], key=lambda f: str(f["name"]))
    _write_json(manifest_path, manifest_doc(final_files))
    manifest_sha = _file_entry(manifest_path)["sha256"]
    receipt = receipt_doc(bundle_digest(final_files), manifest_sha, final_files)
    _write_json(receipt_path, receipt)
    return RunResult(out, result, receipt)


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
