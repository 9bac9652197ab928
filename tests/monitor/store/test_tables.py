"""The Core tables are the schema: the migrations build the same one, the ORM maps onto them,
and importing them does not load ``sqlalchemy.orm``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine

from monitor.store import Base, migrate, tables


def _schema(engine: Engine) -> dict[str, Any]:
    """Every table's columns, keys, indexes and checks as the database reports them."""
    found = inspect(engine)
    schema: dict[str, Any] = {}
    for name in sorted(set(found.get_table_names()) - {"alembic_version"}):
        schema[name] = {
            # in name order, defaults unquoted: a migration adds a column last, and SQLite
            # reports a default as it was written ('1' or 1)
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")).strip("'"))
                for c in found.get_columns(name)
            ),
            "pk": found.get_pk_constraint(name),
            "fks": sorted(found.get_foreign_keys(name), key=lambda fk: fk["name"] or ""),
            "uniques": sorted(found.get_unique_constraints(name), key=lambda u: u["name"] or ""),
            "indexes": sorted(
                (i["name"], i["column_names"], i["unique"], _where(i))
                for i in found.get_indexes(name)
            ),
            "checks": sorted(found.get_check_constraints(name), key=lambda c: c["name"] or ""),
        }
    return schema


def _where(index: Any) -> str | None:
    where = index.get("dialect_options", {}).get("sqlite_where")
    return None if where is None else str(where)


def test_create_all_of_the_core_tables_builds_the_migrated_schema(tmp_path: Path) -> None:
    migrated_url = f"sqlite:///{tmp_path / 'migrated.db'}"
    migrate.upgrade(migrated_url)
    created = create_engine(f"sqlite:///{tmp_path / 'created.db'}")
    tables.metadata.create_all(created)
    migrated = create_engine(migrated_url)
    try:
        assert _schema(created) == _schema(migrated)
    finally:
        created.dispose()
        migrated.dispose()


def test_the_orm_classes_map_the_core_tables() -> None:
    assert Base.metadata is tables.metadata
    mapped = {m.local_table for m in Base.registry.mappers}
    assert mapped == set(tables.metadata.tables.values())


@pytest.mark.parametrize("module", ["monitor.store.tables", "monitor.store"])
def test_the_tables_and_engine_helpers_load_no_orm(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if 'orm' in m.split('.')))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
    loaded = (
        f"import sys, {module}, monitor.store; monitor.store.Alert; "
        "print('sqlalchemy.orm' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", loaded], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "True"  # the counter-check: the ORM classes do load it
