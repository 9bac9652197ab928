"""Start and stop a Spark Thrift server (HiveServer2 on Spark SQL) from the pyspark package.

Used by the Spark tests (one server per test session) and bench/warehouse_scaling.py. The
server is ready when its log says ``HiveThriftServer2 started``: waited for, never slept.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

READY = "HiveThriftServer2 started"


def java_missing() -> str | None:
    """Why Java cannot run, or None."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return None
    if shutil.which("java") is None:
        return "no Java: neither JAVA_HOME/bin/java nor java on PATH (Spark needs Java 17+)"
    return None


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ThriftServer:
    """A running server: its ``hive://`` URL, its log and its process."""

    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(
    workdir: Path, *, master: str = "local[2]", timeout: float = 300.0, driver_memory: str = "1g"
) -> ThriftServer:
    """Start a server with an in-memory catalog and tables under ``workdir``; wait until
    its log says it is ready (or fail with the log's tail)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    home = spark_home()
    log = workdir / "thrift.log"
    command = [
        str(home / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
        "--master",
        master,
        "--driver-memory",
        driver_memory,
        "--conf",
        "spark.sql.catalogImplementation=in-memory",
        "--conf",
        "spark.sql.session.timeZone=UTC",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        f"spark.sql.warehouse.dir={workdir / 'warehouse'}",
        "--conf",
        f"spark.driver.extraJavaOptions=-Djava.io.tmpdir={workdir}",
        "--hiveconf",
        "hive.server2.thrift.bind.host=127.0.0.1",
        "--hiveconf",
        f"hive.server2.thrift.port={port}",
        "spark-internal",
    ]
    env = os.environ | {"SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    env["SPARK_LOG_DIR"] = str(workdir)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ThriftServer(f"hive://monitor@127.0.0.1:{port}/default", log, process)
    deadline = time.monotonic() + timeout
    while READY not in log.read_text(errors="replace"):
        if process.poll() is not None:
            code = process.returncode
            raise RuntimeError(f"the Spark Thrift server exited ({code}):\n{_tail(log)}")
        if time.monotonic() > deadline:
            server.stop()
            waited = f"{timeout:.0f} s"
            raise RuntimeError(f"the Spark Thrift server not ready in {waited}:\n{_tail(log)}")
        time.sleep(0.5)  # polling the log for the readiness line, not a fixed wait
    return server


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
