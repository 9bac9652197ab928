"""The `monitor` command line.

Each module in this package that defines ``register(app)`` adds its commands. Modules import
only typer at top level; heavy libraries (pandas, scipy, evidently) load inside the commands
that need them, so `monitor --help` starts fast.
"""

from __future__ import annotations

import gc
import importlib
import os
import pkgutil
import sys

import typer

from monitor.errors import MonitorError

#: Commands that read or change a few rows of the state DB and exit. They run without the
#: cyclic garbage collector: its passes over the many long-lived objects that start-up creates
#: (SQLAlchemy, pydantic, the config) cost 0.05-0.09 s of CPU of `monitor status` (5-8 %), and what
#: they leave behind is freed at exit. Commands that read data (scan, drift, report, demo) or
#: keep running (run) collect as usual.
SHORT_COMMANDS = frozenset(
    {"status", "alerts", "ack", "unack", "snooze", "resolve", "silence", "maintenance"}
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="monitor",
        help="Drift and model-health monitoring.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Click's plain help: typer's Rich panels print a value type for flags (``--json
        # <bool>``), as if they took a value.
        rich_markup_mode=None,
    )
    app.callback()(_root)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
    return app


def _show_version(value: bool) -> None:
    if value:
        from monitor import __version__

        typer.echo(f"monitor {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Drift and model-health monitoring."""


#: Settings of the libraries the monitor runs on, for its own process; a variable the user set
#: (even to "") wins. Each is read when its library loads, which no command has done by the
#: time :func:`main` sets them (docs/performance.md, "Process defaults").
PROCESS_DEFAULTS = {
    # pydantic looks for plugins in the entry points of every installed distribution when it
    # builds its first model (20-30 ms here, a tenth of `monitor status`); the monitor uses none.
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
    # One OpenBLAS thread. The monitor's BLAS calls are vector-sized (Wasserstein's dot product
    # over a column, a PCA basis of a few dozen features); with a thread per core each call
    # hands the work out and the helper threads then spin, taking the CPU that the scan's read
    # thread needs (a warm 1M + 1M scan: 0.16-0.39 s of CPU, 3-7 %).
    "OPENBLAS_NUM_THREADS": "1",
}


def main(argv: list[str] | None = None) -> None:
    for name, value in PROCESS_DEFAULTS.items():
        os.environ.setdefault(name, value)
    args = sys.argv[1:] if argv is None else argv
    collecting = gc.isenabled()
    if args and args[0] in SHORT_COMMANDS:
        gc.disable()
    app = build_app()
    try:
        app(args=argv, standalone_mode=True)
    except MonitorError as exc:
        from monitor.cli._common import loaded_secrets
        from monitor.redact import redact

        typer.echo(f"error: {redact(str(exc), loaded_secrets())}", err=True)
        sys.exit(2)
    finally:
        if argv is None:
            # The process's own command line: it ends here. Its last act would otherwise be
            # a collection over every object start-up made (0.15-0.3 s of `monitor status`, a
            # quarter to a third of its wall time, more with the PostgreSQL driver loaded) to
            # free what the exit frees anyway.
            gc.freeze()
        if collecting:  # main() also runs in-process (tests): leave the collector as found
            gc.enable()
