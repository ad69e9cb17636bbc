"""What a start is waiting for: each server's start is a step with its time limit, so that a person
watching `portal up` sees which server it waits for and for how long (on a busy machine Kafka
took more than a minute, which looked like a hang and then ended in a give-up with no warning)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator


class Progress:
    """`with progress.step("Kafka on 127.0.0.1:19092", timeout=120): ...` reports the start and
    the time it took through `report`; `waiting()` says what is starting at the moment."""

    def __init__(self, report: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic):
        self.report = report or (lambda line: None)
        self.clock = clock
        self._steps: dict[str, tuple[float, float | None]] = {}

    @contextlib.contextmanager
    def step(self, what: str, timeout: float | None = None) -> Iterator[None]:
        limit = f" (up to {timeout:.0f} s)" if timeout else ""
        self.report(f"starting {what}{limit}")
        started = self.clock()
        self._steps[what] = (started, timeout)
        try:
            yield
        except Exception:
            self.report(f"{what} failed after {self.clock() - started:.1f} s")
            raise
        finally:
            self._steps.pop(what, None)
        self.report(f"{what} ready in {self.clock() - started:.1f} s")

    def waiting(self) -> str:
        """E.g. 'Kafka on 127.0.0.1:19092 (14 s of 120 s), catalog migrations (2 s)'; '' when idle."""
        now = self.clock()
        return ", ".join(
            f"{what} ({now - started:.0f} s{f' of {timeout:.0f} s' if timeout else ''})"
            for what, (started, timeout) in self._steps.items()
        )
