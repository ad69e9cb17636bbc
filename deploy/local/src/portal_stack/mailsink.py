"""SMTP sink (aiosmtpd) + HTTP viewer (Litestar on uvicorn), both on the running event loop.

Standalone: python -m portal_stack.mailsink [--smtp-port 1025] [--http-port 8025] [--dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import logging
import signal
from pathlib import Path
from typing import Any

from portal_stack._proc import port_is_free
from portal_stack.errors import InfraError
from portal_stack.mailstore import MailStore


class _Handler:
    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server, session, envelope) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        await asyncio.to_thread(self.store.save, envelope.mail_from or "", list(envelope.rcpt_tos), content)
        return "250 Message accepted for delivery"


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;text-align:left}"
        "tr:nth-child(even){background:#f3f3f3}pre{white-space:pre-wrap}</style></head>"
        f"<body>{body}</body></html>"
    )


def _index_html(messages: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(m['received_at'])}</td><td>{html.escape(m['mail_from'])}</td>"
        f"<td>{html.escape(', '.join(m['rcpt_to']))}</td>"
        f"<td><a href='/messages/{m['id']}'>{html.escape(m['subject'] or '(no subject)')}</a></td></tr>"
        for m in reversed(messages)
    )
    return _page(
        "Mail sink",
        f"<h1>Mail sink ({len(messages)} messages)</h1><table>"
        f"<tr><th>Received</th><th>From</th><th>To</th><th>Subject</th></tr>{rows}</table>",
    )


def _message_html(m: dict[str, Any]) -> str:
    headers = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in m["headers"].items())
    parts = ""
    if m["text"] is not None:
        parts += f"<h2>Text</h2><pre>{html.escape(m['text'])}</pre>"
    if m["html"] is not None:
        parts += (
            "<h2>HTML</h2><iframe sandbox style='width:100%;height:60vh;border:1px solid #ccc' "
            f'srcdoc="{html.escape(m["html"], quote=True)}"></iframe>'
        )
    return _page(
        m["subject"],
        f"<p><a href='/'>&larr; all messages</a></p>"
        f"<h1>{html.escape(m['subject'] or '(no subject)')}</h1><table>{headers}</table>{parts}",
    )


def create_app(store: MailStore):
    from litestar import Litestar, MediaType, Request, delete, get
    from litestar.exceptions import NotFoundException

    # parameters are read from the request to stay clear of signature-inference deprecations

    @get("/", media_type=MediaType.HTML, sync_to_thread=True)
    def index() -> str:
        return _index_html(store.list())

    @get("/messages/{msg_id:str}", media_type=MediaType.HTML, sync_to_thread=True)
    def show(request: Request) -> str:
        msg_id = request.path_params["msg_id"]
        m = store.get(msg_id)
        if m is None:
            raise NotFoundException(f"no message {msg_id}")
        return _message_html(m)

    @get("/api/messages", sync_to_thread=True)
    def api_list(request: Request) -> list[dict[str, Any]]:
        return store.list(request.query_params.get("to"))

    @delete("/api/messages", status_code=204, sync_to_thread=True)
    def api_clear() -> None:
        store.clear()

    return Litestar([index, show, api_list, api_clear], openapi_config=None, logging_config=None)


class MailSink:
    """Start/stop on the current event loop; messages stored under `directory`."""

    def __init__(
        self,
        directory: Path,
        smtp_host: str = "127.0.0.1",
        smtp_port: int = 1025,
        http_host: str = "127.0.0.1",
        http_port: int = 8025,
    ) -> None:
        self.store = MailStore(directory)
        self.smtp_host, self.smtp_port = smtp_host, smtp_port
        self.http_host, self.http_port = http_host, http_port
        self._smtp: asyncio.AbstractServer | None = None
        self._http = None
        self._http_task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"

    async def start(self) -> None:
        import uvicorn
        from aiosmtpd.smtp import SMTP

        for port in (self.smtp_port, self.http_port):
            if not port_is_free(port, self.smtp_host):
                raise InfraError(
                    f"cannot start the mail sink: port {port} is in use (stop what "
                    "uses it, or set PORTAL_SMTP_HOST/PORTAL_SMTP_PORT to a server)"
                )
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
        handler = _Handler(self.store)
        loop = asyncio.get_running_loop()
        self._smtp = await loop.create_server(
            lambda: SMTP(handler, hostname="portal-mailsink", data_size_limit=50 * 2**20),
            host=self.smtp_host,
            port=self.smtp_port,
        )

        class _Server(uvicorn.Server):
            def capture_signals(self):  # the embedding program owns signal handling
                return contextlib.nullcontext()

        config = uvicorn.Config(
            create_app(self.store), host=self.http_host, port=self.http_port, log_level="warning", lifespan="on"
        )
        self._http = _Server(config)
        self._http_task = asyncio.create_task(self._http.serve())
        while not self._http.started:
            if self._http_task.done():
                await self.stop()
                raise InfraError(f"mail viewer failed to start on {self.url}: {self._http_task.exception()!r}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._http is not None and self._http_task is not None:
            self._http.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._http_task, 10)
        self._http = self._http_task = None
        if self._smtp is not None:
            self._smtp.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._smtp.wait_closed(), 5)
            self._smtp = None


async def _serve(args: argparse.Namespace) -> None:
    sink = MailSink(Path(args.dir), args.smtp_host, args.smtp_port, args.http_host, args.http_port)
    await sink.start()
    print(f"SMTP on {args.smtp_host}:{args.smtp_port}, viewer on {sink.url}, mails in {args.dir}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sink.stop()


def main(argv: list[str] | None = None) -> None:
    from portal_stack.config import default_data_dir

    parser = argparse.ArgumentParser(prog="python -m portal_stack.mailsink", description=__doc__)
    parser.add_argument("--smtp-host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--dir", default=str(default_data_dir() / "mail"))
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
