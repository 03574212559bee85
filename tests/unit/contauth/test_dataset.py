"""The shipped synthetic set is what its generator writes, in the CMU layout exactly."""

from __future__ import annotations

import pytest

from paygod.contauth import cmu, synthetic
from paygod.kernel.errors import InvalidInput


def test_the_shipped_file_is_regenerated_byte_for_byte() -> None:
    assert synthetic.SHIPPED.read_text() == cmu.write(synthetic.generate())


def test_it_has_the_cmu_columns_and_ud_is_dd_minus_the_first_hold() -> None:
    text = synthetic.SHIPPED.read_text()
    assert text.splitlines()[0].split(",")[:5] == [
        "subject", "sessionIndex", "rep", "H.period", "DD.period.t",
    ]  # fmt: skip
    assert text.splitlines()[0].endswith("UD.l.Return,H.Return") and len(cmu.COLUMNS) == 34
    rows = cmu.parse(text)
    assert len(rows) == synthetic.SUBJECTS * synthetic.SESSIONS * synthetic.REPS
    for row in rows[:50]:
        f = row.as_features()
        assert abs(f["UD.t.i"] - (f["DD.t.i"] - f["H.t"])) < 1e-3


def test_another_layout_is_refused_with_where() -> None:
    with pytest.raises(InvalidInput) as caught:
        cmu.parse("subject,rep\ns1,1\n")
    assert caught.value.errors[0].pointer == "/0"
    header = ",".join(cmu.COLUMNS)
    with pytest.raises(InvalidInput) as caught:
        cmu.parse(header + "\ns1,1,1," + ",".join(["x"] * 31) + "\n")
    assert caught.value.errors[0].pointer == "/1"
