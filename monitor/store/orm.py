"""The ORM's declarative base: the mapped classes of :mod:`monitor.store` map the Core tables of
:mod:`monitor.store.tables`, so both share one :class:`~sqlalchemy.MetaData`."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from monitor.store import tables


class Base(DeclarativeBase):
    metadata = tables.metadata
