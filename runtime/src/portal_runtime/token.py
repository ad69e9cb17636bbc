"""`portal-token --account acme --user alice --role customer`: a bearer token for local use (user
`sub` of account `account` with `role`), signed with JWT_SECRET (or PORTAL_JWT_SECRET). Services
that check an identity provider's tokens (JWT_JWKS_URL) refuse these: get one from the provider."""

from __future__ import annotations

import os
from datetime import timedelta

import typer

from portal_runtime.auth import ROLES, issue_token

app = typer.Typer(add_completion=False)
MAX_HOURS = 24 * 366  # a local token; anything longer is a mistake (and past the datetime range soon)


@app.command()
def main(
    account: str = typer.Option(..., help="account id the token names (the `account` claim)"),
    user: str = typer.Option(
        None, help="user id within the account (JWT `sub`); by default the role's name, e.g. `admin`"
    ),
    role: str = typer.Option("customer", help="customer or admin"),
    hours: float = typer.Option(8.0, help=f"lifetime in hours (more than 0, at most {MAX_HOURS})"),
    secret: str = typer.Option(
        None,
        envvar=["JWT_SECRET", "PORTAL_JWT_SECRET"],
        show_envvar=True,
        help="signing key (defaults to the one `portal up` keeps)",
    ),
) -> None:
    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}", param_hint="--role")
    if not account:
        raise typer.BadParameter("the account id must not be empty", param_hint="--account")
    if user == "":
        raise typer.BadParameter(
            "the user id must not be empty (leave --user out for the role's name)", param_hint="--user"
        )
    if not 0 < hours <= MAX_HOURS:
        raise typer.BadParameter(
            f"the lifetime must be more than 0 and at most {MAX_HOURS} hours, not {hours}", param_hint="--hours"
        )
    secret = secret or _local_secret()
    typer.echo(issue_token(secret, account, role, user_id=user, ttl=timedelta(hours=hours)))


def _local_secret() -> str:
    from pathlib import Path

    path = Path(os.environ.get("PORTAL_DATA_DIR", ".portal")) / "jwt_secret"
    if not path.exists():
        raise typer.BadParameter(f"no JWT_SECRET in the environment and no {path}; start `portal up` first")
    return path.read_text().strip()


if __name__ == "__main__":
    app()
