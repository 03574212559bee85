"""Hostile input against the PostgreSQL store, which refuses some text SQLite keeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import psycopg
import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings
from tests.e2e.test_hostile_inputs import assert_nul_refused_and_nothing_recorded


@pytest.fixture
def kernel(postgres_url: str, tmp_path: Path) -> Iterator[Kernel]:
    schema = f"t_{uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{postgres_url}?options={quote(f'-csearch_path={schema}')}"
    built = build_kernel(load_settings(home=tmp_path / "home", database_url=url))
    try:
        yield built
    finally:
        built.close()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def test_nul_in_a_path_query_or_stored_field_is_422_not_500(kernel: Kernel) -> None:
    assert_nul_refused_and_nothing_recorded(kernel)
