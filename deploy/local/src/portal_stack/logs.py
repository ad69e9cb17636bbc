"""`portal logs [name]`: the last lines of the stack's logs, then each line as it is written, as
`tail -F` does, but of several files at once with the name of whom each line is from (one
terminal for the whole stack). Files that do not exist yet are waited for; a file that is
truncated or replaced (a new data directory) is read again from its start."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from portal_stack import SERVICES

INFRASTRUCTURE = ("kafka", "postgres")
NAMES = (*SERVICES, *INFRASTRUCTURE)
_LAST_BYTES = 256 * 1024  # enough for the last lines asked for; Kafka's server.log grows large


def log_files(data_dir: Path) -> dict[str, list[Path]]:
    """Every log a stack in `data_dir` writes, by the name `portal logs` takes."""
    files = {name: [data_dir / "logs" / f"{name}.log"] for name in SERVICES}
    files["kafka"] = [data_dir / "kafka" / "server.log", data_dir / "kafka" / "kafka.log"]  # log4j's, then stdout
    files["postgres"] = [data_dir / "postgres" / "postgres.log"]
    return files


class _Followed:
    """One file read on from where it was last read."""

    def __init__(self, name: str, path: Path) -> None:
        self.name, self.path = name, path
        self.position = 0
        self.inode: int | None = None
        self.partial = b""

    def last_lines(self, count: int) -> list[str]:
        """The file's last `count` lines; reading on starts after them."""
        try:
            with open(self.path, "rb") as fh:
                stat = os.fstat(fh.fileno())
                self.inode, start = stat.st_ino, max(0, stat.st_size - _LAST_BYTES)
                fh.seek(start)
                data = fh.read()
        except OSError:
            return []
        self.position = start + len(data)
        lines = data.split(b"\n")
        if start:
            lines.pop(0)  # a line cut at `start`
        self.partial = lines.pop() if lines else b""  # after the last newline: a line still being written
        return [line.decode("utf-8", "replace") for line in lines[-count:]] if count > 0 else []

    def new_lines(self) -> list[str]:
        try:
            with open(self.path, "rb") as fh:
                stat = os.fstat(fh.fileno())
                if stat.st_ino != self.inode or stat.st_size < self.position:  # replaced or truncated
                    self.inode, self.position, self.partial = stat.st_ino, 0, b""
                fh.seek(self.position)
                data = fh.read()
        except OSError:
            return []
        self.position += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        return [line.decode("utf-8", "replace") for line in lines]


def follow(
    files: dict[str, list[Path]],
    *,
    lines: int = 10,
    forever: bool = True,
    interval: float = 0.2,
    echo: Callable[[str], None] = print,
) -> None:
    """Echo the last `lines` lines of each file, then (`forever`) new lines as they come, each
    prefixed by its name when there are several names. Returns only when not `forever`."""
    width = max(map(len, files)) if len(files) > 1 else 0
    followed = [_Followed(name, path) for name, paths in files.items() for path in paths]

    def show(entry: _Followed, text: list[str]) -> None:
        for line in text:
            echo(f"{entry.name:<{width}} | {line}" if width else line)

    for entry in followed:
        show(entry, entry.last_lines(lines))
    while forever:
        time.sleep(interval)
        for entry in followed:
            show(entry, entry.new_lines())
