"""Small process and network helpers shared by the server wrappers."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a text file ('' if it does not exist)."""
    try:
        data = Path(path).read_bytes()[-64_000:]
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _below_ephemeral() -> range | None:
    """Ports the OS never picks as the local port of an outgoing connection: below its ephemeral
    range (Linux: ip_local_port_range, 32768-60999 by default), None where that is not known."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return range(max(1024, low - 12_000), low) if low > 10_000 else None


def free_port(preferred: int | None = None, host: str = "127.0.0.1", avoid: set[int] | None = None) -> int:
    """`preferred` if it can be bound, else a free port below the OS's ephemeral range, picked at
    random (a port the OS picks is free only until the next outgoing connection takes it as its
    local port: on a machine busy with tests, a server started a few seconds later could not bind
    it, or a readiness check found another process there); else one the OS picks."""
    avoid = avoid or set()
    if preferred and preferred not in avoid and port_is_free(preferred, host):
        return preferred
    below = _below_ephemeral()
    if below is not None:
        for _ in range(100):
            port = random.choice(below)
            if port not in avoid and port_is_free(port, host):
                return port
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port not in avoid:
            return port


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()  # looked up in the parent: the child only makes the call


def _die_with_parent(sig: int):
    """preexec_fn: ask Linux to send `sig` to the child when the parent thread exits."""
    if _PRCTL is None:
        return None
    prctl = _PRCTL

    def _set() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig))

    return _set


def spawn(
    args: list[str],
    *,
    log_path: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    user: str | None = None,
    parent_death_signal: int = signal.SIGTERM,
) -> subprocess.Popen:
    """Start a long-running child in its own session, output appended to `log_path`.

    The own session keeps a terminal's Ctrl-C away from the child, so the parent can stop
    children in order; the parent-death signal makes sure none outlives the parent.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
            preexec_fn=_die_with_parent(parent_death_signal),
        )


async def wait_ready(
    proc: subprocess.Popen,
    ready: Callable[[], Awaitable[bool]],
    *,
    timeout: float,
    interval: float,
    stop: Callable[[], Awaitable[None]],
    failure: Callable[[str], Exception],
) -> None:
    """Poll `ready()` every `interval` seconds until it answers True. When the process exits
    first or `timeout` seconds pass, raise `failure("exited")` or `failure("did not become
    ready")`; on that or any other way out (an error, a cancelled start) `stop()` the server
    first, so that a failed start leaves no process behind."""
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if proc.poll() is not None:
                break
            if await ready():
                return
            await asyncio.sleep(interval)
        raise failure("exited" if proc.poll() is not None else "did not become ready")
    except BaseException:
        await stop()
        raise


async def stop_process(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
    """Send `sig`, wait up to `timeout` seconds, then SIGKILL. Returns the exit code."""
    if proc is None:
        return None
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while proc.poll() is None and loop.time() < deadline:
            await asyncio.sleep(0.1)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
            await asyncio.to_thread(proc.wait)
    return proc.returncode
