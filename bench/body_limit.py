"""Peak RSS of `monitor run` under big unauthenticated POSTs, baseline code vs this tree.

    python bench/body_limit.py                      # baseline: the `main` branch
    python bench/body_limit.py --baseline <git ref> --mb 300 --requests 3 --parallel

Each side is a real `monitor run --no-scheduler` process (the baseline's code comes from
`git archive <ref>`, run with the same interpreter) on its own migrated SQLite state DB. The
client sends ``--requests`` POSTs of ``--mb`` MB to ``/api/alerts/1/ack`` without a token,
one after another (or at once with ``--parallel``), half with ``Content-Length`` and half
chunked, each a valid JSON ``{"by": "xxx..."}`` streamed from a reused 1 MiB buffer so the
client itself stays small. It stops sending when the server answers or closes. Reported per
side: the answers, the MB the server let the client send before answering, and the server's
peak RSS (``VmHWM`` from ``/proc/<pid>/status``).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
CONFIG = """state_db: "sqlite:///{state}"
sources: {{}}
models: []
"""


@dataclass
class Side:
    name: str
    answers: list[str]
    sent_mb: list[float]
    peak_rss_mb: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git ref of the code before")
    parser.add_argument("--mb", type=int, default=300, help="body size of each POST")
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("--parallel", action="store_true", help="send them at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="body-limit-") as tmp:
        before = Path(tmp) / "before"
        before.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.baseline], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive.stdout, check=True)
        sides = [
            measure(f"before ({args.baseline})", before, Path(tmp), args),
            measure("after (this tree)", ROOT, Path(tmp), args),
        ]
    report(sides, args)


def measure(name: str, code: Path, tmp: Path, args: argparse.Namespace) -> Side:
    folder = tmp / f"state-{name.split()[0]}"
    folder.mkdir()
    config = folder / "monitor.yaml"
    config.write_text(CONFIG.format(state=folder / "state.db"))
    env = {**os.environ, "PYTHONPATH": str(code)}
    cli = [sys.executable, "-m", "monitor"]
    subprocess.run([*cli, "db", "upgrade", "-c", str(config)], env=env, check=True, cwd=code)
    port = _free_port()
    server = subprocess.Popen(
        [*cli, "run", "--no-scheduler", "--port", str(port), "-c", str(config)],
        env=env,
        cwd=code,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(port)
        workers = args.requests if args.parallel else 1
        with ThreadPoolExecutor(workers) as pool:
            done = list(
                pool.map(
                    lambda i: post(port, args.mb * MIB, chunked=i % 2 == 1), range(args.requests)
                )
            )
        answers = [answer for answer, _sent in done]
        sent = [round(bytes_sent / MIB, 1) for _answer, bytes_sent in done]
        return Side(name, answers, sent, _peak_rss_mb(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=60)


def post(port: int, size: int, *, chunked: bool) -> tuple[str, int]:
    """Send one unauthenticated POST of ``size`` bytes; (status line, bytes sent)."""
    framing = b"Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}".encode()
    head = b"POST /api/alerts/1/ack HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    block = b"x" * MIB
    # A valid JSON body, {"by": "xxx...x"}, so the baseline gets as far as authentication.
    opening, closing = b'{"by": "', b'"}'
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=600) as sock:
        sock.sendall(head + framing + b"\r\n\r\n")
        try:
            while sent < size:
                if _answered(sock):
                    break
                chunk = block[: min(MIB, size - sent)]
                if sent == 0:
                    chunk = opening + chunk[len(opening) :]
                if sent + len(chunk) >= size:
                    chunk = chunk[: -len(closing)] + closing
                frame = b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk
                sock.sendall(frame)
                sent += len(chunk)
            if chunked and sent >= size:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while the body was still coming
        sock.settimeout(600)
        status = sock.recv(4096).split(b"\r\n", 1)[0].decode() or "(closed)"
    return status, sent


def _answered(sock: socket.socket) -> bool:
    """Whether the server already sent something (an early 413), without blocking."""
    sock.setblocking(False)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    finally:
        sock.setblocking(True)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc status")


def _wait_healthy(port: int) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become healthy within 120 s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def report(sides: list[Side], args: argparse.Namespace) -> None:
    how = "at once" if args.parallel else "one after another"
    print(f"{args.requests} unauthenticated POSTs of {args.mb} MB to /api/alerts/1/ack, {how}")
    print("| side | answers | MB sent before the answer | server peak RSS (MB) |")
    print("| --- | --- | --- | --- |")
    for side in sides:
        answers = ", ".join(sorted(set(side.answers)))
        print(f"| {side.name} | {answers} | {side.sent_mb} | {side.peak_rss_mb} |")
    before, after = sides
    print(f"peak RSS after / before: {after.peak_rss_mb / before.peak_rss_mb:.3f}")


if __name__ == "__main__":
    main()
