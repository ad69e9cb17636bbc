"""The `./portal` script as a new user meets it: a new shell's PATH lacks ~/.local/bin, where the
first run put uv, and every call ran pip again to reinstall it (seconds and a warning each). Here
`python3` is a stand-in that notes every `python3 -m pip` (and refuses it) before running the real
interpreter, so that "no pip ran" is seen, not guessed from timings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PYTHON = Path(sys.base_prefix) / "bin" / "python3"  # a real interpreter, whatever HOME is


def path_without_uv() -> list[str]:
    """The PATH's directories, leaving out every one holding uv (such as ~/.local/bin)."""
    kept = [d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "uv").exists()]
    assert shutil.which("uv", path=os.pathsep.join(kept)) is None
    for tool in ("bash", "java", "mvn"):
        assert shutil.which(tool, path=os.pathsep.join(kept)), f"{tool} must be on PATH outside uv's directories"
    return kept


@pytest.fixture
def shell(tmp_path):
    """Runs `./portal <args>` as from a new shell with HOME `home` and no uv on its PATH; answers
    (the completed process, whether pip ran)."""
    shims = tmp_path / "shims"
    shims.mkdir()
    pip_ran = tmp_path / "pip-ran"
    (shims / "python3").write_text(
        f'#!/bin/sh\ncase " $* " in *" -m pip "*) echo "$*" >> "{pip_ran}"; exit 1;; esac\nexec "{PYTHON}" "$@"\n'
    )
    (shims / "python3").chmod(0o755)
    real_uv = Path(shutil.which("uv") or Path.home() / ".local" / "bin" / "uv")
    assert real_uv.is_file(), "these tests need uv (./portal installs it)"
    cache = subprocess.run([real_uv, "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()

    def run(args: list[str], home: Path, **env: str) -> tuple[subprocess.CompletedProcess, bool]:
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "VIRTUAL_ENV", "UV_", "PYTHON"))},
            "HOME": str(home),
            "PATH": os.pathsep.join([str(shims), *path_without_uv()]),
            "UV_CACHE_DIR": cache,  # the machine's cache, not a new one under the new HOME
            "JWT_SECRET": "a-local-secret-of-at-least-thirty-two-bytes",
            **env,
        }
        done = subprocess.run(
            [str(REPO / "portal"), *args], cwd=REPO, env=environment, capture_output=True, text=True, timeout=240
        )
        return done, pip_ran.exists()

    run.real_uv = real_uv
    return run


def uv_in(directory: Path, real_uv: Path) -> None:
    directory.mkdir(parents=True)
    (directory / "uv").symlink_to(real_uv)


def test_portal_finds_the_uv_it_installed_in_local_bin_without_pip(shell, tmp_path):
    home = tmp_path / "home"
    uv_in(home / ".local" / "bin", shell.real_uv)
    done, pip_ran = shell(["token", "--account", "acme"], home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(".") == 2 and "\n" not in done.stdout.strip()  # a JWT
    assert not pip_ran and "installing uv" not in done.stderr, done.stderr


def test_portal_finds_uv_in_pips_user_scripts_directory_without_pip(shell, tmp_path):
    """`pip install --user uv` writes to PYTHONUSERBASE's bin when that is set."""
    home, user_base = tmp_path / "home", tmp_path / "userbase"
    home.mkdir()
    uv_in(user_base / "bin", shell.real_uv)
    done, pip_ran = shell(["token", "--account", "acme"], home, PYTHONUSERBASE=str(user_base))
    assert done.returncode == 0, done.stderr
    assert not pip_ran and "installing uv" not in done.stderr, done.stderr


def test_without_any_uv_portal_installs_it_with_pip(shell, tmp_path):
    """The stand-in sees pip when there is no uv anywhere (and refuses it, so the run fails)."""
    home = tmp_path / "home"
    home.mkdir()
    done, pip_ran = shell(["token", "--account", "acme"], home, PYTHONUSERBASE=str(tmp_path / "none"))
    assert pip_ran and "installing uv from PyPI" in done.stderr, done.stderr
    assert done.returncode != 0


def test_a_negative_lifetime_is_one_line_naming_the_option(shell, tmp_path):
    home = tmp_path / "home"
    uv_in(home / ".local" / "bin", shell.real_uv)
    for args in (["--hours", "-1"], ["--account", "acme", "--hours", "-1"]):
        done, pip_ran = shell(["token", *args], home)
        assert done.returncode == 2, done
        assert done.stdout == "" and "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("portal token: error: --hours: the lifetime must be"), lines
        assert not pip_ran
