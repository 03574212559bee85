"""Alembic, configured in code: one version folder per domain module, upgraded to all heads.

Each module's first revision has `branch_labels = ("<module>",)` and
`down_revision = None`, so modules evolve their tables independently.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from paygod.kernel.database import migration_folders

_HERE = Path(__file__).parent


def version_locations() -> list[str]:
    return [str(folder) for folder in migration_folders()]


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.set_main_option("version_locations", " ".join(version_locations()))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_to_heads(url: str) -> None:
    cfg = alembic_config(url)
    script = ScriptDirectory.from_config(cfg)
    wanted = set(script.get_heads())
    if not wanted:
        return
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
        if current == wanted:
            return  # the common case at start-up: nothing to do, no lock taken
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
    finally:
        engine.dispose()
