"""``monitor retrained MODEL --version V``: record that a model was retrained."""

from __future__ import annotations

import typer

from monitor.cli._common import config_option, load, parse_time, state_session


def register(app: typer.Typer) -> None:
    app.command("retrained")(retrained)


def retrained(
    model: str = typer.Argument(..., help="The model that was retrained."),
    version: str | None = typer.Option(None, "--version", help="The new model version."),
    at: str | None = typer.Option(
        None, "--at", help="When the new model started serving (ISO time, UTC; default: now)."
    ),
    by: str | None = typer.Option(None, "--by", help="Who records it."),
    note: str | None = typer.Option(None, "--note", help="What changed."),
    as_json: bool = typer.Option(False, "--json", help="The recorded retraining as JSON."),
    config: str | None = config_option(),
) -> None:
    """Record a retraining: the status report and dashboard show it as the last retraining."""
    import json
    from datetime import UTC, datetime

    from monitor.status.report import retraining_json
    from monitor.store import record_retraining

    settings = load(config)
    name = settings.model(model).name
    now = datetime.now(UTC)
    with state_session(settings.state_db) as session:
        row = record_retraining(
            session=session,
            model=name,
            version=version,
            at=parse_time(at, "--at") or now,
            recorded_at=now,
            source="cli",
            by=by,
            note=note,
        )
        session.commit()
        shown = retraining_json(row)
    if as_json:
        typer.echo(json.dumps(shown.as_json(), indent=2))
    else:
        version_text = f" version {shown.version}" if shown.version else ""
        typer.echo(f"recorded: {name}{version_text} retrained at {shown.retrained_at}")
