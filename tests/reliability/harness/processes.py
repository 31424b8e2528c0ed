"""Real ``intellectra-integrations`` processes for the tests: started with a clean environment, each
in its own process group (so a SIGKILL takes its children too), stdout and stderr captured in files
that the secret scan reads afterwards, and always stopped by the fixture that made them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from core.testing import free_port

STRIPPED_PREFIXES = ("INTELLECTRA_", "STRIPE_")
"""The test process's own settings never leak into the processes under test."""


def console_script() -> str:
    """The installed ``intellectra-integrations`` next to this interpreter (the README's command)."""
    beside = Path(sys.executable).parent / "intellectra-integrations"
    if beside.exists():
        return str(beside)
    found = shutil.which("intellectra-integrations")
    if found is None:
        raise RuntimeError("intellectra-integrations is not installed; run `pip install -e '.[test]'`")
    return found


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIPPED_PREFIXES) and k != "CI"}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


class ManagedProcess:
    """One child process; every incarnation writes its own log file (``name.N.log``)."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path, logs: Path,
                 *, port: int | None = None) -> None:
        self.name, self.argv, self.env, self.cwd, self.logs, self.port = name, list(argv), dict(env), cwd, logs, port
        self.popen: subprocess.Popen[bytes] | None = None
        self.incarnations = 0
        self.log_files: list[Path] = []

    @property
    def url(self) -> str:
        assert self.port is not None
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def start(self) -> ManagedProcess:
        self.incarnations += 1
        log = self.logs / f"{self.name}.{self.incarnations}.log"
        self.log_files.append(log)
        with log.open("wb") as out:
            self.popen = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_ready(self, timeout: float = 60.0) -> None:
        """A serve process is ready when ``/healthz`` answers 200 (database reachable, plugins loaded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.popen and self.popen.returncode}:\n{self.tail()}")
            if self.port is None:
                return
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} was not ready after {timeout:.0f} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown code runs (a crash, not a stop)."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; safe to call twice."""
        if self.popen is None or self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 40) -> str:
        if not self.log_files or not self.log_files[-1].exists():
            return ""
        return "\n".join(self.log_files[-1].read_text(errors="replace").splitlines()[-lines:])


class Fleet:
    """The processes of one deployment: ``serve --no-workers`` instances and ``worker`` instances."""

    def __init__(self, env: Mapping[str, str], workdir: Path, *, verbosity: int = 1) -> None:
        self.env = dict(env)
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.verbose = ["-" + "v" * verbosity] if verbosity else []
        self.serves: list[ManagedProcess] = []
        self.workers: list[ManagedProcess] = []

    @property
    def processes(self) -> list[ManagedProcess]:
        return [*self.serves, *self.workers]

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.serves]

    def cli(self, *args: str, check: bool = True, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run one CLI command in this deployment's environment; its output is kept for the secret scan."""
        done = subprocess.run([console_script(), *args], env=self.env, cwd=self.workdir, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        index = len(list(self.logs.glob("cli.*.log"))) + 1
        (self.logs / f"cli.{index}.log").write_text(f"$ {' '.join(args)}\n{done.stdout}\n{done.stderr}")
        if check and done.returncode != 0:
            raise RuntimeError(f"`intellectra-integrations {' '.join(args)}` failed ({done.returncode}):\n"
                               f"{done.stdout}\n{done.stderr}")
        return done

    def add_serve(self, port: int | None = None) -> ManagedProcess:
        port = port or free_port()
        index = len(self.serves) + 1
        process = ManagedProcess(f"serve{index}", [console_script(), *self.verbose, "serve", "--no-workers",
                                                   "--host", "127.0.0.1", "--port", str(port)],
                                 {**self.env, "INTELLECTRA_PUBLIC_URL": f"http://127.0.0.1:{port}"},
                                 self.workdir, self.logs, port=port)
        self.serves.append(process.start())
        return process

    def add_worker(self) -> ManagedProcess:
        index = len(self.workers) + 1
        process = ManagedProcess(f"worker{index}", [console_script(), *self.verbose, "worker"], self.env,
                                 self.workdir, self.logs)
        self.workers.append(process.start())
        return process

    def start(self, serves: int, workers: int) -> Fleet:
        for _ in range(serves):
            self.add_serve()
        for _ in range(workers):
            self.add_worker()
        for process in self.processes:
            process.wait_ready()
        return self

    def restart(self, process: ManagedProcess) -> None:
        process.start()
        process.wait_ready()

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(Exception):
                process.stop()

    def log_files(self) -> list[Path]:
        return sorted(self.logs.glob("*.log"))
