"""Start a throwaway PostgreSQL server from the machine's own binaries (initdb/pg_ctl)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _bindir() -> Path:
    for candidate in (os.environ.get("ZHUNRU_PG_BINDIR"), _pg_config_bindir()):
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    raise RuntimeError("PostgreSQL server binaries not found: install postgresql (see .ci/run)")


def _pg_config_bindir() -> str | None:
    if shutil.which("pg_config") is None:
        return None
    out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
    return out.stdout.strip() or None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    root: Path
    port: int
    bindir: Path
    run_as: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def pid(self) -> int:
        """The postmaster's process id (its sessions are its children)."""
        return int((self.root / "data" / "postmaster.pid").read_text().split()[0])

    def _run(self, *args: str) -> None:
        subprocess.run([*self.run_as, *args], check=True, capture_output=True)

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> PostgresServer:
    """initdb into a temporary directory and start on a free loopback port; trust auth."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="zhunru-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    server = PostgresServer(root=root, port=_free_port(), bindir=bindir, run_as=run_as)
    server._run(
        str(bindir / "initdb"),
        "-D",
        str(root / "data"),
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={server.port} -c unix_socket_directories={root} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    server._run(
        str(bindir / "pg_ctl"),
        "-D",
        str(root / "data"),
        "-o",
        options,
        "-l",
        str(root / "server.log"),
        "-w",
        "start",
    )
    return server
