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


def test_tabs_between_values_load_as_they_do_in_pack_yaml(tmp_path: Path) -> None:
    # libyaml reads a tab as separation white space (YAML 1.2), as pack.yaml is read.
    (tmp_path / "rails.yaml").write_text(
        "rails:\n  ach:\t{fixed_fee:\t30}\t# after a tab\nconnectors:\n  ach: {type: simulated}\n"
    )
    assert load_rails_config(tmp_path) == {
        "rails": {"ach": {"fixed_fee": 30}},
        "connectors": {"ach": {"type": "simulated"}},
    }


def test_an_unquoted_cutoff_is_the_time_as_written_not_a_yaml_1_1_integer(
    tmp_path: Path,
) -> None:
    (tmp_path / "rails.yaml").write_text("rails:\n  ach: {cutoff: {opens: 13:00, closes: 21:00}}\n")
    config = load_rails_config(tmp_path)
    assert config["rails"]["ach"]["cutoff"] == {"opens": "13:00", "closes": "21:00"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rails:\n  ach: {fixed_fee: 30}\n  ach: {fixed_fee: 99}\n", "duplicate key 'ach'"),
        ("rails:\n\tach: {fixed_fee: 30}\n", "a tab cannot indent YAML"),
        ("rails: {ach: [\n", "rails.yaml is not valid YAML:"),
    ],
)
def test_a_malformed_rails_file_is_one_line_invalid_settings(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "rails.yaml").write_text(text)
    with pytest.raises(InvalidSettings, match=message) as caught:
        load_rails_config(tmp_path)
    assert "\n" not in str(caught.value)
