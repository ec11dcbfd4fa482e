"""Transports: the scripted one, and libcurl against a local HTTP server on 127.0.0.1."""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, Optional

import pytest

import omni


def header(message: Dict[str, Any], name: str) -> Optional[str]:
    """A header of a request/response JSON object, by case-insensitive name."""
    headers = message.get("headers") or {}
    if isinstance(headers, dict):
        items = list(headers.items())
    else:
        items = [tuple(h) for h in headers]
    for key, value in items:
        if key.lower() == name.lower():
            return value
    return None


def body_bytes(message: Dict[str, Any]) -> bytes:
    if "bodyBase64" in message:
        return base64.b64decode(message["bodyBase64"])
    return str(message.get("body", "")).encode("utf-8")


# ---- scripted -----------------------------------------------------------------


def test_scripted_send_and_sent() -> None:
    transport = omni.Transport.scripted(
        [
            {"status": 200, "headers": {"Content-Type": "application/json"},
             "body": '{"ok":true}'},
            {"status": 503, "body": "busy"},
            {"error": "TIMEOUT", "message": "carrier did not answer"},
        ]
    )
    with transport:
        resp = transport.send(
            {
                "method": "POST",
                "url": "https://api.example.com/v1/messages",
                "headers": [["Authorization", "Bearer t"], ["X-Id", "1"]],
                "body": '{"to":"+15551234567"}',
                "timeoutMs": 2500,
            }
        )
        assert resp["status"] == 200
        assert header(resp, "content-type") == "application/json"
        assert json.loads(body_bytes(resp)) == {"ok": True}

        # An HTTP error status is a response, not an exception.
        resp = transport.send({"method": "GET", "url": "https://api.example.com/busy"})
        assert resp["status"] == 503 and body_bytes(resp) == b"busy"

        with pytest.raises(omni.OmniError) as info:
            transport.send({"method": "GET", "url": "https://api.example.com/slow"})
        assert info.value.code == "TIMEOUT"
        assert info.value.retryable is True
        assert "carrier did not answer" in info.value.message

        with pytest.raises(omni.OmniError) as info:
            transport.send({"method": "GET", "url": "https://api.example.com/more"})
        assert info.value.code == "SCRIPT_EXHAUSTED"

        sent = transport.sent()
        assert [r["url"] for r in sent[:3]] == [
            "https://api.example.com/v1/messages",
            "https://api.example.com/busy",
            "https://api.example.com/slow",
        ]
        first = sent[0]
        assert first["method"] == "POST"
        assert header(first, "authorization") == "Bearer t"
        assert header(first, "x-id") == "1"
        assert json.loads(body_bytes(first)) == {"to": "+15551234567"}
        assert first.get("timeoutMs") == 2500


def test_scripted_binary_body() -> None:
    with omni.Transport.scripted([{"status": 204}]) as transport:
        transport.send({"method": "PUT", "url": "https://x.example/b", "body": b"\x00\xff\x01"})
        assert body_bytes(transport.sent()[0]) == b"\x00\xff\x01"


def test_request_and_script_errors() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.Transport.scripted("[not json")
    assert info.value.code in ("INVALID_JSON", "INVALID_CONFIG")
    with pytest.raises(omni.OmniError) as info:
        omni.Transport.scripted('{"status": 200}')  # an object, not an array
    assert info.value.code in ("INVALID_ARGUMENT", "INVALID_JSON", "INVALID_CONFIG")
    with pytest.raises(omni.OmniError) as info:
        omni.Transport.scripted([{"status": 99}])
    assert info.value.code in ("INVALID_ARGUMENT", "INVALID_JSON", "INVALID_CONFIG")
    with omni.Transport.scripted([]) as transport:
        with pytest.raises(omni.OmniError) as info:
            transport.send({"method": "get", "url": "https://x.example/"})
        assert info.value.code == "INVALID_ARGUMENT"
        with pytest.raises(omni.OmniError) as info:
            transport.send({"method": "GET", "url": "ftp://x.example/"})
        assert info.value.code == "INVALID_ARGUMENT"
        with pytest.raises(omni.OmniError) as info:
            transport.send({"method": "GET", "url": "https://x.example/",
                            "headers": {"X-Bad": "a\r\nInjected: 1"}})
        assert info.value.code == "INVALID_ARGUMENT"
        assert transport.sent() == []
    with pytest.raises(omni.OmniError) as info:
        transport.send({"method": "GET", "url": "https://x.example/"})
    assert info.value.code == "INVALID_ARGUMENT"  # closed


def test_engine_scripted_transport() -> None:
    config = {"transport": {"type": "scripted", "responses": [{"status": 202, "body": "ok"}]}}
    with omni.Engine(config) as engine:
        transport = engine.transport
        assert transport is not None
        assert transport.send({"method": "GET", "url": "https://x.example/"})["status"] == 202
        assert len(transport.sent()) == 1


# ---- curl -------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", "pytest")
        self.end_headers()
        self.wfile.write(body)

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/slow"):
            time.sleep(1.5)
        if self.path.startswith("/missing"):
            self._reply(404, b"no such thing", "text/plain")
            return
        if self.path.startswith("/big"):
            self._reply(200, b"x" * 100_000, "text/plain")
            return
        doc = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        self._reply(200, json.dumps(doc).encode())

    do_GET = _echo
    do_POST = _echo
    do_PUT = _echo
    do_DELETE = _echo


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_curl_round_trip(server: str) -> None:
    with omni.Transport.curl({"timeoutMs": 5000, "userAgent": "omni-pytest"}) as transport:
        resp = transport.send(
            {
                "method": "POST",
                "url": server + "/v1/send?x=1",
                "headers": {"Content-Type": "application/json", "X-Trace": "abc"},
                "body": '{"hello":"wörld"}',
            }
        )
        assert resp["status"] == 200
        assert header(resp, "x-served-by") == "pytest"
        echo = json.loads(body_bytes(resp))
        assert echo["method"] == "POST"
        assert echo["path"] == "/v1/send?x=1"
        assert echo["headers"]["x-trace"] == "abc"
        assert echo["headers"]["user-agent"] == "omni-pytest"
        assert json.loads(echo["body"]) == {"hello": "wörld"}

        # Connection reuse: several requests on one transport.
        for i in range(3):
            resp = transport.send({"method": "GET", "url": f"{server}/n/{i}"})
            assert json.loads(body_bytes(resp))["path"] == f"/n/{i}"

        resp = transport.send({"method": "GET", "url": server + "/missing"})
        assert resp["status"] == 404 and body_bytes(resp) == b"no such thing"


def test_curl_errors(server: str) -> None:
    with omni.Transport.curl({"maxResponseBytes": 1000}) as transport:
        with pytest.raises(omni.OmniError) as info:
            transport.send({"method": "GET", "url": server + "/big"})
        assert info.value.code == "RESPONSE_TOO_LARGE"
        assert info.value.retryable is False

        with pytest.raises(omni.OmniError) as info:
            transport.send({"method": "GET", "url": server + "/slow", "timeoutMs": 300})
        assert info.value.code == "TIMEOUT"
        assert info.value.retryable is True

        # A port nobody listens on (bind one, then close it).
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        with pytest.raises(omni.OmniError) as info:
            transport.send({"method": "GET", "url": f"http://127.0.0.1:{port}/"})
        assert info.value.code == "CONNECT_FAILED"
        assert info.value.retryable is True

        with pytest.raises(omni.OmniError) as info:
            transport.sent()  # not a scripted transport
        assert info.value.code == "INVALID_ARGUMENT"

    with pytest.raises(omni.OmniError) as info:
        omni.Transport.curl({"noSuchOption": 1})
    assert info.value.code == "INVALID_CONFIG"
