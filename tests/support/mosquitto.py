"""A real Mosquitto broker on a free loopback port, for integration tests.

The binary is a hard requirement (the test scripts install it), so a missing one fails the test
run with the command that fixes it instead of silently skipping the MQTT tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

INSTALL_HINT = "apt-get install -y mosquitto"
HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0


def find_mosquitto() -> str:
    """The mosquitto binary, or fail the test run with the install command."""
    found = shutil.which("mosquitto")
    if found:
        return found
    if Path("/usr/sbin/mosquitto").exists():
        return "/usr/sbin/mosquitto"
    pytest.fail(f"mosquitto is not installed; install it with: {INSTALL_HINT}", pytrace=False)


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class MosquittoBroker:
    """One Mosquitto process; :meth:`restart` keeps the port so clients can reconnect."""

    def __init__(self, workdir: Path, *, extra_config: str = "") -> None:
        self.binary = find_mosquitto()
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = HOST
        self.port = free_port()
        self.extra_config = extra_config
        self.scheme = "mqtt"
        self.config_path = workdir / "mosquitto.conf"
        self.log_path = workdir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _write_config(self) -> None:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "persistence false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
        ]
        if os.geteuid() == 0:
            # Started as root, Mosquitto would switch to the "mosquitto" user; tests don't need it.
            lines.append("user root")
        self.config_path.write_text("\n".join(lines) + "\n" + self.extra_config)

    def start(self) -> None:
        if self.running:
            return
        self._write_config()
        log = self.log_path.open("ab")
        try:
            self._process = subprocess.Popen(
                [self.binary, "-c", str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        finally:
            log.close()
        self._wait_until_accepting()

    def _wait_until_accepting(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not self.running:
                pytest.fail(f"mosquitto exited at start:\n{self.log_text()}", pytrace=False)
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        pytest.fail(f"mosquitto did not accept connections:\n{self.log_text()}", pytrace=False)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def restart(self) -> None:
        """Stop and start again on the same port (retained messages are lost: no persistence)."""
        self.stop()
        self.start()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"


def make_tls_files(directory: Path, host: str = HOST) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``host`` (IP SAN): ``(ca, cert, key)``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is not installed; install it with: apt-get install -y openssl")
    ca_key, ca = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    extensions = directory / "server.ext"
    extensions.write_text(f"subjectAltName=IP:{host}\n")
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    steps = [
        [openssl, "req", "-x509", *curve, "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=klima test CA"],
        [openssl, "req", *curve, "-keyout", key, "-out", csr, "-subj", f"/CN={host}"],
        [openssl, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", extensions],
    ]  # fmt: skip
    for step in steps:
        subprocess.run([str(part) for part in step], check=True, capture_output=True)
    return ca, cert, key


def tls_listener_config(ca: Path, cert: Path, key: str | Path) -> str:
    """Extra Mosquitto lines that turn the test listener into a TLS one."""
    return f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
