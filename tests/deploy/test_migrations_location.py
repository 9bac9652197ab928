"""An installed wheel ships no migrations; the image copies them and sets MONITOR_MIGRATIONS."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.errors import MonitorError
from monitor.store import migrate

REPO = Path(__file__).resolve().parents[2]


def test_upgrade_uses_migrations_copied_where_the_image_puts_them(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(REPO / "alembic", tmp_path / "alembic")
    shutil.copy(REPO / "alembic.ini", tmp_path / "alembic.ini")
    monkeypatch.setenv(migrate.DIR_ENV, str(tmp_path / "alembic"))
    assert migrate.alembic_dir() == tmp_path / "alembic"
    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.heads()
    engine = sa.create_engine(db_url)
    try:
        assert sa.inspect(engine).has_table("alert")
    finally:
        engine.dispose()


def test_missing_migrations_name_the_variable_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(migrate.DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(MonitorError, match=migrate.DIR_ENV):
        migrate.alembic_dir()


def test_migrations_without_alembic_ini_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(REPO / "alembic", tmp_path / "alembic")
    monkeypatch.setenv(migrate.DIR_ENV, str(tmp_path / "alembic"))
    with pytest.raises(MonitorError, match=r"alembic\.ini"):
        migrate.alembic_dir()
