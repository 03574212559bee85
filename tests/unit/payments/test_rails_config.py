from __future__ import annotations

from pathlib import Path

import pytest

from paygod.kernel.errors import InvalidSettings
from paygod.payments.wiring import load_rails_config


def test_a_missing_file_means_the_default_catalog(tmp_path: Path) -> None:
    assert load_rails_config(tmp_path) == {}


def test_connectors_and_rails_are_read(tmp_path: Path) -> None:
    (tmp_path / "rails.yaml").write_text(
        "rails:\n  ach: {fixed_fee: 30}\nconnectors:\n  ach: {type: simulated}\n"
    )
    assert load_rails_config(tmp_path) == {
        "rails": {"ach": {"fixed_fee": 30}},
        "connectors": {"ach": {"type": "simulated"}},
    }


def test_a_connector_at_the_top_level_is_refused_not_silently_ignored(tmp_path: Path) -> None:
    (tmp_path / "rails.yaml").write_text("ach: {type: simulated, state_path: /tmp/x.db}\n")
    with pytest.raises(InvalidSettings, match="unknown key 'ach'; expected 'rails'") as caught:
        load_rails_config(tmp_path)
    assert caught.value.errors[0].pointer == "/ach"
