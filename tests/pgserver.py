"""A real PostgreSQL server for tests: Debian's initdb and pg_ctl, in a temp folder, on a loopback port.

As root (CI here), the server runs as the `postgres` user that Debian's package creates: PostgreSQL
refuses to run as root."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise RuntimeError(f"{name} not found: install Debian's postgresql package (scripts/test.sh does)")
    return found[-1]


class PostgresServer:
    def __init__(self, port: int):
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="archivist-pg-"))
        self.data = self.root / "data"
        self._as = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(_bin("initdb"), "-D", str(self.data), "-U", "archivist", "--auth=trust", "-E", "UTF8",
                  "--no-instructions")
        self.url = f"postgresql://archivist@127.0.0.1:{port}/postgres"

    def _run(self, *cmd: str) -> None:
        r = subprocess.run([*self._as, *cmd], capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stdout}{r.stderr}")

    def _ctl(self, *args: str) -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off", *args)

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        try:
            self._ctl("-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
