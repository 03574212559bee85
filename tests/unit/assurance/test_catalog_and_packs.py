"""The controls catalog and the `controls` a pack may name."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from paygod.decisions.control_catalog import CATALOG_DIR, catalogs, control, unknown_control_message
from paygod.decisions.packs import PackInvalid, compile_pack, load_pack
from tests.conftest import REFERENCE

PACK = """\
api_version: paygod/v1
kind: Pack
metadata:
  name: gate
  version: 1.0.0
  controls: [nist-800-53:si-10]
spec:
  policy:
    rules:
      - name: deny-big
        condition: input.p.amount > 10
        decision: deny
        reason: Too big.
        controls: [nist-800-53:ac-5, CONTROL]
"""


def test_catalogs_name_their_source_and_version() -> None:
    found = catalogs()
    assert set(found) == {"nist-800-53", "pci-dss-4", "soc2"}
    nist = json.loads((CATALOG_DIR / "nist-800-53.json").read_text())
    assert nist["version"] == "5.1.1+u4" and len(nist["sources"]) == 2
    assert all(len(s["sha256"]) == 64 for s in nist["sources"])
    ac5 = control("nist-800-53:ac-5")
    assert ac5 is not None and ac5.title == "Separation of Duties"
    assert "separation of duties" in ac5.statement
    assert control("pci-dss-4:7.2") is not None and control("soc2:CC6.1") is not None
    for cat in found.values():
        assert cat.source and cat.version and cat.publisher


@pytest.mark.parametrize(
    ("ref", "needle"),
    [
        ("nist-800-53:zz-99", "unknown control"),
        ("iso-27001:A.5.1", "unknown control framework"),
        ("ac-2", "not a control reference"),
    ],
)
def test_unknown_references_are_explained(ref: str, needle: str) -> None:
    message = unknown_control_message(ref)
    assert message is not None and needle in message


def test_pack_controls_reach_rules() -> None:
    pack = compile_pack(PACK.replace("CONTROL", "pci-dss-4:7.2").encode(), Path("pack.yaml"))
    assert pack.rules[0].controls == ("nist-800-53:si-10", "nist-800-53:ac-5", "pci-dss-4:7.2")


def test_unknown_control_refuses_the_pack_with_rule_and_pointer() -> None:
    with pytest.raises(PackInvalid) as caught:
        compile_pack(PACK.replace("CONTROL", "soc2:CC9.9").encode(), Path("pack.yaml"))
    error = caught.value.errors[0]
    assert error.pointer == "/spec/policy/rules/0/controls/1"
    assert "pack.yaml:14" in error.message and "rule 'deny-big'" in error.message
    assert "soc2:CC9.9" in error.message


def test_pack_without_controls_is_unchanged() -> None:
    plain = PACK.replace("  controls: [nist-800-53:si-10]\n", "").replace(
        "        controls: [nist-800-53:ac-5, CONTROL]\n", ""
    )
    pack = compile_pack(plain.encode(), Path("pack.yaml"))
    assert pack.rules[0].controls == ()
    assert pack.digest == hashlib.sha256(plain.encode()).hexdigest()


def test_reference_packs_still_load() -> None:
    dirs = [p.parent for p in REFERENCE.rglob("pack.yaml")]
    assert dirs
    for directory in dirs:
        try:
            load_pack(directory)
        except PackInvalid as exc:  # some reference packs are deliberately broken
            assert "control" not in str(exc)
