"""Servers on 127.0.0.1 for tests: a free port, and a threaded HTTP server around any
``http.server`` handler, stopped and closed when the ``with`` block ends."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that logs nothing (the test output keeps to its own lines)."""

    def send_body(
        self, body: bytes, *, status: int = 200, content_type: str = "application/json"
    ) -> None:
        """Answer with ``body``, its type and its length.

        Args:
            body: the whole response body.
            status: the HTTP status code.
            content_type: the Content-Type header.
        """
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def serve_http(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A ``ThreadingHTTPServer`` on a free port of 127.0.0.1; yields ``127.0.0.1:<port>``.

    Request threads are daemons, so a handler that never answers does not hold up the
    close; the serve loop polls every 0.1 s, so the shutdown is quick.

    Args:
        handler: the request handler class.
    """
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
