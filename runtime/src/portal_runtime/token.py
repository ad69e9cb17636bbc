"""`portal-token --account acme --user alice --role customer`: a bearer token for local use (user
`sub` of account `account` with `role`), signed with JWT_SECRET (or PORTAL_JWT_SECRET). Services
that check an identity provider's tokens (JWT_JWKS_URL) refuse these: get one from the provider.

It is mostly run inside `$(...)` in a shell, so a wrong option answers one line on stderr naming
the option, with exit code 2 (not a box or a traceback)."""

from __future__ import annotations

import os
from datetime import timedelta

import typer

from portal_runtime.auth import ROLES, issue_token

app = typer.Typer(add_completion=False)
MAX_HOURS = 24 * 366  # a local token; anything longer is a mistake (and past the datetime range soon)


def _refuse(option: str, message: str) -> typer.Exit:
    typer.echo(f"portal token: error: {option}: {message} (see --help)", err=True)
    return typer.Exit(2)


def _lifetime(hours: float) -> float:
    """Checked as the option is read, so that `--hours -1` alone names --hours (not the --account
    it lacks too)."""
    if not 0 < hours <= MAX_HOURS:
        raise _refuse("--hours", f"the lifetime must be more than 0 and at most {MAX_HOURS} hours, not {hours:g}")
    return hours


@app.command()
def main(
    account: str = typer.Option(None, help="account id the token names (the `account` claim), required"),
    user: str = typer.Option(
        None, help="user id within the account (JWT `sub`); by default the role's name, e.g. `admin`"
    ),
    role: str = typer.Option("customer", help="customer or admin"),
    hours: float = typer.Option(8.0, callback=_lifetime, help=f"lifetime in hours (more than 0, at most {MAX_HOURS})"),
    secret: str = typer.Option(
        None,
        envvar=["JWT_SECRET", "PORTAL_JWT_SECRET"],
        show_envvar=True,
        help="signing key (defaults to the one `portal up` keeps)",
    ),
) -> None:
    if not account:
        raise _refuse("--account", "the account id the token names is needed, e.g. --account acme")
    if role not in ROLES:
        raise _refuse("--role", f"the role must be one of {', '.join(ROLES)}, not {role!r}")
    if user == "":
        raise _refuse("--user", "the user id must not be empty (leave --user out for the role's name)")
    secret = secret or _local_secret()
    typer.echo(issue_token(secret, account, role, user_id=user, ttl=timedelta(hours=hours)))


def _local_secret() -> str:
    from pathlib import Path

    path = Path(os.environ.get("PORTAL_DATA_DIR", ".portal")) / "jwt_secret"
    if not path.exists():
        typer.echo(
            f"portal token: error: no JWT_SECRET in the environment and no {path}; start `portal up` first", err=True
        )
        raise typer.Exit(2)
    return path.read_text().strip()


if __name__ == "__main__":
    app()
