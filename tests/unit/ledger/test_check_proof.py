"""`paygod ledger check-proof` and the standalone verifier's `main`: exit 0 valid, 1 invalid
with the reason, 2 malformed; signed tree heads checked against the right key only."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from paygod.cli.main import app
from paygod.ledger import merkle, verifier
from paygod.ledger.signing import TreeHeadSigner
from paygod.ledger.verifier import EMPTY_ROOT, Malformed, check_tree_head, leaf_hash, node_hash

LEAVES = [leaf_hash(bytes([i])) for i in range(6)]


def _nodes() -> dict[tuple[int, int], bytes]:
    nodes, level, row = {}, 0, LEAVES
    while row:
        nodes.update({(level, i): h for i, h in enumerate(row)})
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        level += 1
    return nodes


NODES = _nodes()


def read(level: int, index: int) -> bytes:
    return NODES[(level, index)]


INCLUSION = merkle.inclusion_proof(read, 6, 2, 6).as_dict()
CONSISTENCY = merkle.consistency_proof(read, 6, 3, 6).as_dict()


def check_proof(tmp_path: Path, doc: Any, *args: str) -> tuple[int, str]:
    file = tmp_path / "proof.json"
    file.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    result = CliRunner().invoke(app, ["ledger", "check-proof", str(file), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_valid_proofs_exit_0(tmp_path: Path) -> None:
    assert check_proof(tmp_path, INCLUSION)[0] == 0
    code, out = check_proof(tmp_path, CONSISTENCY, "--json")
    assert code == 0
    assert json.loads(out) == {"kind": "consistency", "valid": True, "reason": None}


def _flip(hex_hash: str) -> str:
    return ("1" if hex_hash[0] == "0" else "0") + hex_hash[1:]


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({**INCLUSION, "leaf_index": 3}, "root"),
        # A size whose tree has another shape (RFC 9162 cannot tell sizes of one shape apart:
        # leaf 2 sits alike in trees of 5 and 6, so only a signed head binds the size).
        ({**INCLUSION, "tree_size": 12}, "too short"),
        ({**INCLUSION, "tree_size": 3}, "too long"),
        ({**INCLUSION, "leaf_index": 6}, "not below tree_size"),
        ({**INCLUSION, "leaf_index": 0, "tree_size": 0, "audit_path": []}, "not below"),
        ({**INCLUSION, "audit_path": INCLUSION["audit_path"][:-1]}, "too short"),
        ({**INCLUSION, "audit_path": [*INCLUSION["audit_path"], EMPTY_ROOT]}, "too long"),
        ({**INCLUSION, "root_hash": _flip(INCLUSION["root_hash"])}, "root"),
        ({**INCLUSION, "leaf_hash": _flip(INCLUSION["leaf_hash"])}, "root"),
        ({**CONSISTENCY, "first_size": 2}, "too long"),
        ({**CONSISTENCY, "first_size": 5}, "too long"),
        ({**CONSISTENCY, "second_size": 12}, "too short"),
        (
            {
                **CONSISTENCY,
                "first_root": CONSISTENCY["second_root"],
                "second_root": CONSISTENCY["first_root"],
            },
            "root",
        ),
        ({**CONSISTENCY, "consistency_path": []}, "empty"),
        ({**CONSISTENCY, "first_size": 6}, "must be empty"),
        ({**CONSISTENCY, "first_size": 7}, "larger than"),
        ({**CONSISTENCY, "first_size": 0}, "empty path"),
        ({**CONSISTENCY, "first_size": 0, "consistency_path": []}, "empty tree"),
    ],
)
def test_invalid_proofs_exit_1_with_the_reason(tmp_path: Path, doc: Any, reason: str) -> None:
    code, out = check_proof(tmp_path, doc, "--json")
    assert code == 1, out
    result = json.loads(out)
    assert result["valid"] is False
    assert reason in result["reason"]
    code, out = check_proof(tmp_path, doc)
    assert code == 1
    assert "invalid" in out


@pytest.mark.parametrize(
    "doc",
    [
        '{"leaf_index": 1,',  # truncated JSON
        "",
        "[" * 100_000 + "]" * 100_000,  # deeper than the JSON parser's stack
        '{"leaf_index": 1, "tree_size": ' + "9" * 5000 + "}",  # beyond int parsing limits
        [1, 2],
        {"nothing": "known"},
        {"leaf_index": 0, "tree_size": 1},  # fields missing
        {**INCLUSION, "tree_size": True},
        {**INCLUSION, "leaf_index": False},
        {**INCLUSION, "tree_size": -6},
        {**INCLUSION, "tree_size": 6.0},
        {**INCLUSION, "tree_size": "6"},
        {**INCLUSION, "tree_size": None},
        '{"leaf_index": 2, "tree_size": NaN}',
        {**INCLUSION, "root_hash": INCLUSION["root_hash"].upper()},  # hashes are lowercase
        {**INCLUSION, "root_hash": INCLUSION["root_hash"][:-1]},
        {**INCLUSION, "root_hash": "zz" + INCLUSION["root_hash"][2:]},
        {**INCLUSION, "root_hash": " " + INCLUSION["root_hash"][1:]},
        {**INCLUSION, "audit_path": "not a list"},
        {**INCLUSION, "audit_path": [1]},
        {**INCLUSION, "audit_path": [""]},
        {**CONSISTENCY, "first_size": True},
        {**CONSISTENCY, "second_size": -1},
        {**CONSISTENCY, "consistency_path": None},
        {**CONSISTENCY, "first_root": 7},
    ],
)
def test_malformed_documents_exit_2(tmp_path: Path, doc: Any) -> None:
    code, out = check_proof(tmp_path, doc, "--json")
    assert code == 2, out
    assert json.loads(out)["reason"].startswith("malformed")
    assert check_proof(tmp_path, doc)[0] == 2


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ledger", "check-proof", str(tmp_path / "absent.json")])
    assert result.exit_code == 2


# --- signed tree heads -------------------------------------------------------------------


@pytest.fixture
def signer() -> TreeHeadSigner:
    return TreeHeadSigner.generate()


def _head(signer: TreeHeadSigner) -> dict[str, Any]:
    root = merkle.Tree(read, 6).root().hex()
    return signer.sign(6, root, "2026-01-01T00:00:00Z").as_dict()


def test_a_head_verifies_with_its_own_key_only(signer: TreeHeadSigner) -> None:
    head = _head(signer)
    assert check_tree_head(head, signer.public_pem()) is None
    other = TreeHeadSigner.generate()
    assert "not the given key" in str(check_tree_head(head, other.public_pem()))
    # Signed by another key but claiming this key's id: the signature fails.
    forged = {**other.sign(6, head["root_hash"], head["timestamp"]).as_dict()}
    forged["key_id"] = signer.key_id
    assert "signature is invalid" in str(check_tree_head(forged, signer.public_pem()))
    assert "no public key" in str(check_tree_head(head, None))


@pytest.mark.parametrize(
    "change",
    [
        {"root_hash": EMPTY_ROOT},
        {"tree_size": 5},
        {"tree_size": 7},
        {"timestamp": "2026-01-01T00:00:01Z"},
    ],
)
def test_a_tampered_head_is_rejected(signer: TreeHeadSigner, change: dict[str, Any]) -> None:
    head = {**_head(signer), **change}
    assert "signature is invalid" in str(check_tree_head(head, signer.public_pem()))


@pytest.mark.parametrize(
    "change",
    [
        {"signature": 12345678},  # str() of it is valid base64: must not be decoded
        {"signature": "AAAA"},  # base64, but not an Ed25519 signature's 64 bytes
        {"signature": "not base64!"},
        {"signature": None},
        {"tree_size": True},
        {"tree_size": -1},
        {"root_hash": "AB" * 32},
        {"key_id": 1},
    ],
)
def test_a_malformed_head_raises(signer: TreeHeadSigner, change: dict[str, Any]) -> None:
    with pytest.raises(Malformed):
        check_tree_head({**_head(signer), **change}, signer.public_pem())


def test_head_through_the_cli(signer: TreeHeadSigner, tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes(signer.public_pem())
    other = tmp_path / "other.pem"
    other.write_bytes(TreeHeadSigner.generate().public_pem())
    ec_key = tmp_path / "ec.pem"
    ec_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    head = _head(signer)
    assert check_proof(tmp_path, head, "--public-key", str(key))[0] == 0
    assert check_proof(tmp_path, head, "--public-key", str(other))[0] == 1
    assert check_proof(tmp_path, {**head, "tree_size": 5}, "--public-key", str(key))[0] == 1
    assert check_proof(tmp_path, head, "--public-key", str(ec_key))[0] == 2
    assert check_proof(tmp_path, head, "--public-key", str(garbage))[0] == 2
    assert check_proof(tmp_path, head, "--public-key", str(tmp_path / "absent.pem"))[0] == 2


# --- the standalone verifier's own command line ------------------------------------------


def test_standalone_main_exit_codes(
    signer: TreeHeadSigner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(doc: Any, *extra: str) -> int:
        file = tmp_path / "doc.json"
        file.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        return verifier.main([str(file), *extra])

    key = tmp_path / "key.pem"
    key.write_bytes(signer.public_pem())
    assert run(INCLUSION) == 0
    assert run({**INCLUSION, "leaf_index": 3}) == 1
    assert run({**INCLUSION, "leaf_index": -3}) == 2
    assert run("[" * 100_000) == 2
    assert run(_head(signer), str(key)) == 0
    assert run(_head(signer), str(tmp_path / "absent.pem")) == 2
    assert run({**_head(signer), "signature": base64.b64encode(b"x" * 64).decode()}, str(key)) == 1
    assert "malformed" in capsys.readouterr().err
