"""The drill-down report of one scan (``monitor report``, ``/reports/{id}.html``), by Evidently.

This and the checks' Evidently oracle are the only places that import ``evidently``. The
report re-reads the scan's exact live and reference windows and keeps a seeded random
sample of at most ``sample`` rows of each, so a report of a million-row window stays quick;
the page says so at its top. The stored check results stay the evidence: the report is an
aid for looking at distributions, and on a sample its scores can differ a little.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.errors import MonitorError
from monitor.sources import ModelLog, ReferenceReader, SourceEngines
from monitor.store import Scan, id_in_range
from monitor.windows import Window, isoformat_z

if TYPE_CHECKING:
    import pandas as pd

    from monitor.config.schema import Config, ModelConfig

DEFAULT_SAMPLE = 5000
SEED = 0


@dataclass(frozen=True)
class Sampled:
    frame: pd.DataFrame
    total: int


def find_scan(*, session: Session, model: str | None, scan_id: int | None) -> Scan:
    """Scan ``scan_id``, or ``model``'s latest scan that did not end in error."""
    if scan_id is not None:
        scan = session.get(Scan, scan_id) if id_in_range(scan_id) else None
        if scan is None or (model is not None and scan.model != model):
            owner = f" of model {model!r}" if model else ""
            raise MonitorError(f"scan {scan_id}{owner} not found")
        return scan
    stmt = (
        select(Scan)
        .where(Scan.model == model, Scan.status != "error")
        .order_by(Scan.window_end.desc())
        .limit(1)
    )
    latest = session.scalars(stmt).first()
    if latest is None:
        hint = f"run `monitor scan {model}`"
        raise MonitorError(f"model {model!r} has no successful scan yet: {hint}")
    return latest


def build_report(
    config: Config,
    *,
    session: Session,
    scan_id: int | None = None,
    model: str | None = None,
    sample: int = DEFAULT_SAMPLE,
) -> str:
    """The report's HTML (standalone: Evidently's script is inlined, nothing is fetched)."""
    scan = find_scan(session=session, model=model, scan_id=scan_id)
    chosen = config.model(scan.model)
    live, reference = _read_windows(config, chosen, scan, sample)
    body = _evidently_html(chosen, live.frame, reference.frame)
    return _with_banner(body, _banner(scan, live, reference, sample))


def _read_windows(
    config: Config, model: ModelConfig, scan: Scan, sample: int
) -> tuple[Sampled, Sampled]:
    window = Window(scan.window_start, scan.window_end)
    with SourceEngines(config.sources) as engines:
        log = ModelLog(model, engines)
        reader = ReferenceReader(log)
        live = log.rows(window, reader.columns(), with_target=False)
        reference = reader.load(window)
    if live.empty:
        raise MonitorError(f"scan {scan.id} of model {model.name!r}: the live window has no rows")
    return _sample(live, sample), _sample(reference, sample)


def _sample(frame: pd.DataFrame, size: int) -> Sampled:
    if len(frame) <= size:
        return Sampled(frame.reset_index(drop=True), len(frame))
    return Sampled(frame.sample(n=size, random_state=SEED).reset_index(drop=True), len(frame))


def _evidently_html(model: ModelConfig, live: pd.DataFrame, reference: pd.DataFrame) -> str:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numerical = list(model.features.numerical)
    categorical = list(model.features.categorical)
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    columns = [*numerical, *categorical]
    current_ds = Dataset.from_pandas(live[columns], data_definition=definition)
    reference_ds = Dataset.from_pandas(reference[columns], data_definition=definition)
    snapshot = Report([DataDriftPreset(columns=columns)], include_tests=True).run(
        current_ds, reference_ds
    )
    return str(snapshot.get_html_str(as_iframe=False))


def _banner(scan: Scan, live: Sampled, reference: Sampled, sample: int) -> str:
    window = f"{isoformat_z(scan.window_start)} .. {isoformat_z(scan.window_end)}"
    return (
        '<div style="font:14px system-ui,sans-serif;padding:10px 16px;background:#fff7e6;'
        'border-bottom:1px solid #e5c07b">'
        f"<b>Drill-down of scan #{scan.id}</b> of model <b>{html.escape(scan.model)}</b>, "
        f"live window {window} (status {html.escape(scan.status)}). "
        f"Evidently's DataDriftPreset on a random sample (seed {SEED}, at most {sample} rows "
        f"per side): {len(live.frame)} of {live.total} live rows and {len(reference.frame)} of "
        f"{reference.total} reference rows. The scan's stored results remain the evidence; "
        "scores on a sample can differ from them.</div>"
    )


def _with_banner(page: str, banner: str) -> str:
    marker = "<body>"
    at = page.find(marker)
    if at < 0:
        return banner + page
    return page[: at + len(marker)] + banner + page[at + len(marker) :]
