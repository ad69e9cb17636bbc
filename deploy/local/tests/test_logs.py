"""`portal logs [name]`: the last lines of a stack's logs, then each new line as it is written,
named by whom it is from when all of them are followed; a log that appears later or is replaced
is read from its start."""

from __future__ import annotations

import subprocess
import sys

from portal_stack.logs import NAMES, log_files


def write(path, text: str, mode: str = "a") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode) as fh:
        fh.write(text)


def portal_logs(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "portal_stack.cli", "logs", *args], capture_output=True, text=True, timeout=60
    )


def test_all_logs_at_once_each_line_named_by_whom_it_is_from(tmp_path):
    files = log_files(tmp_path)
    write(files["orders"][0], "one\ntwo\nthree\n")
    write(files["kafka"][0], "[kafka] started\n")
    write(files["postgres"][0], "database system is ready\n")
    done = portal_logs("--data-dir", str(tmp_path), "--no-follow", "-n", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "orders   | two",
        "orders   | three",
        "kafka    | [kafka] started",
        "postgres | database system is ready",
    ]


def test_one_log_is_followed_as_it_is_written(tmp_path, portal):
    log = log_files(tmp_path)["notify"][0]
    write(log, "before\nlast before\n")
    follower = portal(["logs", "notify", "--data-dir", str(tmp_path), "-n", "1"], {})
    follower.expect("last before")
    write(log, "sent an email\n")
    assert follower.expect("sent an email") == "sent an email\n"  # one log: no name in front
    write(log, "a new log from its first line\n", mode="w")  # replaced, shorter: read from its start
    follower.expect("a new log from its first line")
    assert follower.interrupt() == 0
    assert "before\n" not in follower.lines


def test_a_log_not_written_yet_is_waited_for(tmp_path, portal):
    follower = portal(["logs", "billing", "--data-dir", str(tmp_path)], {})
    follower.expect("no logs yet in")
    write(log_files(tmp_path)["billing"][0], "billing started\n")
    follower.expect("billing started")
    assert follower.interrupt() == 0


def test_an_unknown_name_or_no_logs_is_an_error(tmp_path):
    unknown = portal_logs("nosuch", "--data-dir", str(tmp_path))
    assert unknown.returncode == 2 and f"no log named nosuch; one of {', '.join(NAMES)}" in unknown.stdout
    none = portal_logs("orders", "--data-dir", str(tmp_path), "--no-follow")
    assert none.returncode == 1 and "no logs yet in" in none.stdout
