"""The asynchronous transport (omni.AsyncTransport.send_all) against a local HTTP/1.1 server
(http.server in a thread): a fan-out answered in order with connections kept alive, per-item
errors (connect refused, timeout, unsupported URL), bad options, stats and close. The server
threads need the GIL to answer, so these tests also show that send_all releases it."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator

import pytest

import omni


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def setup(self) -> None:
        super().setup()
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.connections += 1  # type: ignore[attr-defined]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/slow"):
            time.sleep(2)
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.requests.append((self.command, self.path, body))  # type: ignore
        out = json.dumps({"path": self.path, "got": body.decode()}).encode()
        status = 404 if self.path.startswith("/missing") else 200
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except OSError:
            pass  # the client gave up (timeouts)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[ThreadingHTTPServer]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.lock = threading.Lock()  # type: ignore[attr-defined]
    srv.connections = 0  # type: ignore[attr-defined]
    srv.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _url(srv: ThreadingHTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}{path}"


def test_fan_out_in_order_with_reused_connections(server: ThreadingHTTPServer) -> None:
    with omni.AsyncTransport({"maxConcurrent": 4}) as t:
        requests = [
            {"method": "POST", "url": _url(server, f"/fcm/{i}"),
             "headers": {"Content-Type": "application/json"}, "body": json.dumps({"n": i})}
            for i in range(40)
        ]
        results = t.send_all(requests)
        assert len(results) == 40
        for i, r in enumerate(results):
            assert isinstance(r, dict), r
            assert r["status"] == 200
            assert json.loads(r["body"]) == {"path": f"/fcm/{i}", "got": json.dumps({"n": i})}
        assert len(server.requests) == 40  # type: ignore[attr-defined]
        assert server.connections <= 4  # type: ignore[attr-defined]
        st = t.stats()
        assert st["sent"] == 40 and st["succeeded"] == 40 and st["failed"] == 0
        assert st["peakInFlight"] == 4
        assert st["connections"] == server.connections  # type: ignore[attr-defined]
        # a second round on the same transport reuses the live connections
        again = t.send_all([{"method": "GET", "url": _url(server, "/again")}])
        assert again[0]["status"] == 200  # type: ignore[index]
        assert t.stats()["connections"] == server.connections  # type: ignore[attr-defined]


def test_http_error_status_is_a_response_and_bytes_bodies(server: ThreadingHTTPServer) -> None:
    with omni.AsyncTransport() as t:
        r = t.send_all([
            {"method": "GET", "url": _url(server, "/missing")},
            {"method": "POST", "url": _url(server, "/bin"), "body": b"\x00\x01binary"},
        ])
    assert r[0]["status"] == 404  # type: ignore[index]
    assert r[1]["status"] == 200  # type: ignore[index]
    got = {path: body for _, path, body in server.requests}  # type: ignore[attr-defined]
    assert got["/bin"] == b"\x00\x01binary"


def test_errors_are_returned_per_request(server: ThreadingHTTPServer) -> None:
    probe = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    closed_port = probe.server_address[1]
    probe.server_close()
    with omni.AsyncTransport({"timeoutMs": 300}) as t:
        results = t.send_all([
            {"method": "GET", "url": _url(server, "/ok")},
            {"method": "GET", "url": f"http://127.0.0.1:{closed_port}/refused"},
            {"method": "GET", "url": _url(server, "/slow/secret")},
            {"method": "SEND", "url": "smtp://127.0.0.1:25"},
            {"method": "GET", "url": "not a url"},
        ])
        ok, refused, slow, smtp, bad = results
        assert isinstance(ok, dict) and ok["status"] == 200
        assert isinstance(refused, omni.OmniError)
        assert refused.code == "CONNECT_FAILED" and refused.status == omni.Status.ECONNECT
        assert refused.retryable
        assert isinstance(slow, omni.OmniError) and slow.code == "TIMEOUT"
        assert "/slow/secret" not in slow.message
        assert isinstance(smtp, omni.OmniError) and smtp.code == "UNSUPPORTED"
        assert isinstance(bad, omni.OmniError) and bad.code == "INVALID_ARGUMENT"
        st = t.stats()
        assert st["sent"] == 3  # the last two were refused before sending
        assert st["failed"] == 2 and st["succeeded"] == 1
        with pytest.raises(omni.OmniError):
            t.send_all([42])  # type: ignore[list-item]


def test_other_threads_run_meanwhile(server: ThreadingHTTPServer) -> None:
    ticks = 0
    stop = threading.Event()

    def tick() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        with omni.AsyncTransport({"timeoutMs": 5000}) as t:
            results = t.send_all([{"method": "GET", "url": _url(server, "/slow")}] * 2)
    finally:
        stop.set()
        ticker.join()
    assert all(isinstance(r, dict) and r["status"] == 200 for r in results)
    assert ticks > 50, ticks


def test_bad_options_and_close() -> None:
    with pytest.raises(omni.OmniError) as ei:
        omni.AsyncTransport({"maxConcurrent": 0})
    assert ei.value.code == "INVALID_CONFIG"
    assert ei.value.details == {"path": "maxConcurrent"}
    with pytest.raises(omni.OmniError) as ei:
        omni.AsyncTransport('{"httpVersion": "3"}')
    assert ei.value.details == {"path": "httpVersion"}
    with pytest.raises(omni.OmniError):
        omni.AsyncTransport(7)  # type: ignore[arg-type]
    t = omni.AsyncTransport('{"httpVersion": "2"}')
    assert t.send_all([]) == []
    t.close()
    assert t.closed
    t.close()
    with pytest.raises(omni.OmniError):
        t.send_all([{"method": "GET", "url": "http://127.0.0.1:9/"}])
    with pytest.raises(omni.OmniError):
        t.stats()


def test_every_async_function_has_a_prototype() -> None:
    import os
    import re

    from omni import _lib

    header = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "omni",
                          "async.h")
    with open(header, encoding="utf-8") as f:
        names = set(re.findall(r"OMNI_API[^;]*?\b(omni_[a-z0-9_]+)\s*\(", f.read()))
    assert len(names) == 7  # new, send, run, pending, stats, close, free
    assert sorted(names - set(_lib.PROTOTYPES)) == []
    for name in names:
        assert getattr(_lib.lib(), name).argtypes is not None
