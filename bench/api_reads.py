"""Read latency of the API and the dashboard's first paint on a year of history.

    python bench/api_reads.py --demo-dir /tmp/lat-demo --base /tmp/lat-base --requests 60

The state DBs are bench/cli_latency.py's: 20 models x 365 daily scans with the demo's check
results, and the demo's alerts every week (SQLite and PostgreSQL). For each backend, and for
each code (this checkout, and with ``--base DIR`` an older checkout through ``PYTHONPATH``),
one ``monitor run --no-scheduler`` serves the API; requests are sent one after another (light
load) after three unmeasured ones, and each endpoint's p50 and p99 are reported. The
dashboard's first paint is what the page does before it can draw: ``GET /``, ``GET
/static/app.js``, then ``/api/models`` and ``/api/alerts?state=open`` in parallel (app.js), timed
end to end. Variants alternate per round, so drifting load hits both.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml
from cli_latency import ROOT, _config, _fill, _python_env, _state_urls

RESULTS = ROOT / "bench" / "results"
ENDPOINTS = ("/api/models", "/api/models/{model}", "/api/alerts?state=open", "first paint")


def serve(config: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "monitor", "run", "--no-scheduler", "-c", str(config)]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
        if proc.poll() is not None:
            raise SystemExit(f"monitor run exited: {proc.stderr.read() if proc.stderr else ''}")
    raise SystemExit("monitor run never got healthy")


def first_paint(client: httpx.Client, pool: ThreadPoolExecutor) -> None:
    for path in ("/", "/static/app.js"):
        client.get(path).raise_for_status()
    calls = [pool.submit(client.get, p) for p in ("/api/models", "/api/alerts?state=open")]
    for call in calls:
        call.result().raise_for_status()


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the server process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timings(port: int, pid: int, model: str, requests: int) -> dict[str, list[tuple[float, float]]]:
    """Per endpoint, (wall, server CPU) seconds of each timed request."""
    out: dict[str, list[tuple[float, float]]] = {e: [] for e in ENDPOINTS}
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=120) as client, ThreadPoolExecutor(2) as pool:
        for i in range(requests + 3):
            for endpoint in ENDPOINTS:
                cpu, start = server_cpu(pid), time.perf_counter()
                if endpoint == "first paint":
                    first_paint(client, pool)
                else:
                    client.get(endpoint.format(model=model)).raise_for_status()
                if i >= 3:
                    out[endpoint].append((time.perf_counter() - start, server_cpu(pid) - cpu))
    return out


def quantile(xs: list[float], q: float) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo-dir", type=Path, help="a `monitor demo --dir` (default: make one)")
    parser.add_argument("--base", type=Path, help="checkout of the code to compare with")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=RESULTS / "api_reads.md")
    parser.add_argument(
        "--configs", type=Path, nargs="+", help="configs of state DBs filled before (untimed)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="api-reads-"))
    backends = args.backends.split(",")
    configs = {}
    for config in args.configs or ():
        settings = yaml.safe_load(config.read_text(encoding="utf-8"))
        backend = "postgresql" if settings["state_db"].startswith("postgresql") else "sqlite"
        configs[backend] = (config, settings["models"][0]["name"])
    demo = args.demo_dir
    if demo is None and not configs:
        demo = tmp / "demo"
        subprocess.run([sys.executable, "-m", "monitor", "demo", "--dir", str(demo)], check=True)
    for backend, url in _state_urls("api", tmp, [] if configs else backends).items():
        assert demo is not None
        config = tmp / f"monitor-{backend}.yaml"
        names = _config(demo, url, config)
        upgrade = [sys.executable, "-m", "monitor", "db", "upgrade", "-c", str(config)]
        subprocess.run(upgrade, env=_python_env(None), check=True, capture_output=True)
        _fill(demo, url, names)
        configs[backend] = (config, names[0])
    variants = {"after": None} if args.base is None else {"before": args.base, "after": None}
    figures: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    port = 18000 + os.getpid() % 1000
    for _ in range(args.rounds):
        for backend, (config, model) in configs.items():
            for tag, code in variants.items():
                env = _python_env(code.resolve() if code else None)
                proc = serve(config, env, port)
                try:
                    for endpoint, xs in timings(port, proc.pid, model, args.requests).items():
                        figures.setdefault((endpoint, backend, tag), []).extend(xs)
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(60)
                print(f"{backend} {tag}: done", flush=True)
    lines = [
        "# API reads on a year of history",
        "",
        f"`python bench/api_reads.py{' --base ' + str(args.base) if args.base else ''}"
        f"{' --configs ' + ' '.join(map(str, args.configs)) if args.configs else ''} "
        f"--requests {args.requests} --rounds {args.rounds}`: 20 models x 365 daily scans; "
        f"`monitor run --no-scheduler`, requests one at a time; {args.requests * args.rounds} "
        f"timed requests per cell; 1-min load average at the end {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores. Wall milliseconds p50 / p99, and in brackets the server"
        " process's mean CPU milliseconds per request (from /proc, 10 ms clock ticks).",
        "",
        "| endpoint | backend | "
        + " | ".join(f"{t} p50 / p99 ms (CPU ms)" for t in variants)
        + (" | p50 ratio (CPU ratio) |" if len(variants) > 1 else " |"),
        "|---|---|" + "---|" * (len(variants) + (len(variants) > 1)),
    ]
    for endpoint in ENDPOINTS:
        for backend in configs:
            cells, p50s, cpus = [], [], []
            for tag in variants:
                walls = [x[0] for x in figures[endpoint, backend, tag]]
                cpu = statistics.fmean(x[1] for x in figures[endpoint, backend, tag]) * 1000
                p50, p99 = statistics.median(walls) * 1000, quantile(walls, 0.99) * 1000
                cells.append(f"{p50:.0f} / {p99:.0f} ({cpu:.0f})")
                p50s.append(p50)
                cpus.append(cpu)
            if len(variants) > 1:
                cpu_ratio = f"{cpus[0] / cpus[1]:.0f}x" if cpus[1] else "n/a"
                cells.append(f"{p50s[0] / p50s[1]:.1f}x ({cpu_ratio})")
            lines.append(f"| `{endpoint}` | {backend} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
