"""`portal-token --account ACME --role customer`: a bearer token for local use, signed with
JWT_SECRET (or PORTAL_JWT_SECRET)."""

from __future__ import annotations

import os
from datetime import timedelta

import typer

from portal_runtime.auth import ROLES, issue_token

app = typer.Typer(add_completion=False)


@app.command()
def main(
    account: str = typer.Option(..., help="account id the token names (JWT `sub`)"),
    role: str = typer.Option("customer", help="customer or admin"),
    hours: float = typer.Option(8.0, help="lifetime in hours"),
    secret: str = typer.Option(
        None,
        envvar=["JWT_SECRET", "PORTAL_JWT_SECRET"],
        show_envvar=True,
        help="signing key (defaults to the one `portal up` keeps)",
    ),
) -> None:
    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}", param_hint="--role")
    secret = secret or _local_secret()
    typer.echo(issue_token(secret, account, role, ttl=timedelta(hours=hours)))


def _local_secret() -> str:
    from pathlib import Path

    path = Path(os.environ.get("PORTAL_DATA_DIR", ".portal")) / "jwt_secret"
    if not path.exists():
        raise typer.BadParameter(f"no JWT_SECRET in the environment and no {path}; start `portal up` first")
    return path.read_text().strip()


if __name__ == "__main__":
    app()
