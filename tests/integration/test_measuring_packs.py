"""A pack that measures, in the real decision service: its score is sealed with the
decision and its explanation, and a replay recomputes the same bytes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from paygod.bootstrap import build_kernel
from paygod.kernel.settings import load_settings
from tests.unit.decisions.test_pack_measures import PLUGINS, SCORED


def test_a_measured_decision_is_sealed_and_replays_identically(tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    (packs / "scored" / "plugins").mkdir(parents=True)
    shutil.copy(PLUGINS / "length.wat", packs / "scored" / "plugins" / "length.wat")
    digest = hashlib.sha256((PLUGINS / "length.wat").read_bytes()).hexdigest()
    plugin = (
        "    - name: size\n"
        f'      plugin: {{module: plugins/length.wat, sha256: "sha256:{digest}"}}\n'
    )
    (packs / "scored" / "pack.yaml").write_text(
        SCORED.replace("  measurements:\n", "  measurements:\n" + plugin)
    )
    kernel = build_kernel(
        load_settings(home=tmp_path / "home", database_url=None, redis_url=None, packs=packs)
    )
    try:
        decided = kernel.decisions.decide(
            subject="urn:paygod:agent:m",
            context={},
            input={"payment": {"amount_minor": 200_000, "age_days": 4}},
            packs=["scored"],
            idempotency_key="m-1",
        )
        sealed = kernel.decisions.get(decided["decision_id"])
        (result,) = sealed["packs"]
        names = [m["name"] for m in result["measurements"]]
        assert names == ["size", "risk"]
        risk = result["measurements"][1]
        assert risk["value"] == 48 and risk["band"] == "medium"  # 10 + 40 + 0 - 2
        assert result["measurements"][0]["plugin"]["sha256"] == f"sha256:{digest}"
        assert sealed["decision"] == "flag"
        replay = kernel.decisions.replay(int(decided["ledger"]["seq"]))
        assert replay["identical"] is True
    finally:
        kernel.close()
