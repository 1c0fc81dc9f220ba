"""A throwaway PostgreSQL + PostGIS cluster for the tests, on a loopback port.

The cluster is made with Debian's ``initdb`` in a temporary folder (as the
``postgres`` user when the tests run as root, since PostgreSQL refuses to run
as root), started with ``pg_ctl`` on a free port with durability switched off
(the data are thrown away), and stopped at the end of the session. Each test
gets its own database, cloned from a template that already has PostGIS.

``HETU_TEST_POSTGRES_URL`` (an admin URL, e.g. ``postgresql://postgres@host/postgres``)
uses an existing server instead. Where no server can be had the PostGIS tests
skip with the reason — unless ``HETU_REQUIRE_POSTGIS=1`` (CI sets it), which
turns the skip into a failure.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

TEMPLATE = "hetu_template"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    """A running server and a way to hand out fresh databases."""

    def __init__(self, admin_url: str, *, stop: list[str] | None = None, folder: str = "") -> None:
        self.admin_url = admin_url
        self._stop = stop
        self._folder = folder
        self._count = itertools.count()
        self._make_template()

    def _admin(self):
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True)

    def _make_template(self) -> None:
        import psycopg

        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(self.url(TEMPLATE), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")

    def url(self, database: str) -> str:
        """The URL of ``database`` on this server."""
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{database}"

    def new_database(self) -> str:
        """Create an empty database with PostGIS; return its URL."""
        name = f"hetu_test_{os.getpid()}_{next(self._count)}"
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def close(self) -> None:
        """Stop a server this session started, and remove its files."""
        if self._stop:
            subprocess.run(self._stop, capture_output=True, check=False, timeout=60)
        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)


def _unavailable(reason: str) -> None:
    if os.environ.get("HETU_REQUIRE_POSTGIS") == "1":
        pytest.fail(f"PostGIS is required here (HETU_REQUIRE_POSTGIS=1) but {reason}")
    pytest.skip(f"no PostgreSQL + PostGIS server for the tests: {reason}")


def start_cluster() -> PostgresCluster:
    """Start (or reach) a server; skip or fail with the precise reason when impossible."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'psycopg[binary]')")
    if os.environ.get("HETU_TEST_POSTGRES_URL"):
        return PostgresCluster(os.environ["HETU_TEST_POSTGRES_URL"])
    bindir = _bin_dir()
    if bindir is None:
        _unavailable("initdb not found (apt-get install postgresql postgresql-postgis)")
    sharedir = subprocess.run(
        [str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if not sharedir or not Path(sharedir, "extension", "postgis.control").is_file():
        _unavailable(f"PostGIS is not installed for {bindir} (apt-get install postgresql-postgis)")
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            _unavailable("running as root and runuser is missing (PostgreSQL refuses root)")
        as_user = ["runuser", "-u", "postgres", "--"]
    folder = tempfile.mkdtemp(prefix="hetu-pg-")
    if as_user:
        shutil.chown(folder, "postgres", "postgres")
    data, log = f"{folder}/data", f"{folder}/server.log"
    port = _free_port()
    init = subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(f"initdb failed: {init.stderr.strip()[-300:]}")
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
    )
    start = subprocess.run(
        [*as_user, str(bindir / "pg_ctl"), "-D", data, "-o", options, "-l", log, "-w", "start"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if start.returncode != 0:
        text = Path(log).read_text(errors="replace")[-300:] if Path(log).exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        _unavailable(f"pg_ctl start failed: {start.stderr.strip()[-200:]} {text}")
    stop = [*as_user, str(bindir / "pg_ctl"), "-D", data, "-m", "immediate", "stop"]
    admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        return PostgresCluster(admin, stop=stop, folder=folder)
    except Exception:
        subprocess.run(stop, capture_output=True, check=False, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
        raise
