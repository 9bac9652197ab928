"""Prediction-log sources: engines, reflected tables, window and reference loading."""

from __future__ import annotations

from monitor.sources.engines import SourceEngines
from monitor.sources.errors import SourceError
from monitor.sources.logs import ModelLog
from monitor.sources.readonly import check_read_only
from monitor.sources.reference import ReferenceReader, ReferenceSpec
from monitor.sources.relations import Relation, query_relation, reflect_table

__all__ = [
    "ModelLog",
    "ReferenceReader",
    "ReferenceSpec",
    "Relation",
    "SourceEngines",
    "SourceError",
    "check_read_only",
    "query_relation",
    "reflect_table",
]
