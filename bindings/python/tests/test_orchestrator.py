"""omni.Orchestrator (omni/orchestrator.h) against a real HTTP server on 127.0.0.1
answering like Twilio's Messages API (one number refused with 21211) and SendGrid:
preferences put/get/delete, important falling back from SMS to email, quiet hours
deferring, idempotency by requestId, bulk, and the errors."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, List

import pytest

import omni

SID = "AC00000000000000000000000000000001"
BAD = "+14155550666"


class FakeProviders:
    def __init__(self) -> None:
        self.paths: List[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                fake.paths.append(self.path)
                if self.path.startswith("/v3/mail/send"):
                    status, doc = 202, None
                elif "To=%2B14155550666" in body:
                    status, doc = 400, {"code": 21211, "message": "Invalid 'To' Phone Number"}
                else:
                    status, doc = 201, {"sid": "SM%04d" % len(fake.paths), "status": "queued"}
                data = json.dumps(doc).encode() if doc else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if status == 202:
                    self.send_header("X-Message-Id", "sg-%d" % len(fake.paths))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()


@pytest.fixture
def setup() -> Iterator[Any]:
    srv = FakeProviders()
    engine = omni.Engine({"storage": "memory:", "clock": {"fixed": "2026-01-01T12:00:00Z"},
                          "transport": {"type": "curl", "timeoutMs": 3000}})
    outbound = omni.Outbound({
        "twilio": {"accountSid": SID, "authToken": "tw-secret", "baseUrl": srv.url},
        "sendgrid": {"apiKey": "sg-secret", "from": {"email": "ops@example.com"},
                     "baseUrl": srv.url}})
    delivery = omni.Delivery(engine, outbound)
    orch = omni.Orchestrator(delivery, {"channels": {
        "sms": {"carrier": "twilio", "from": "+14155550199"},
        "email": {"carrier": "sendgrid"}}, "defaultLocale": "en"})
    yield srv, orch
    orch.close()
    delivery.close()
    outbound.close()
    engine.close()
    srv.httpd.shutdown()
    srv.httpd.server_close()


def prefs(user: str, phone: str, **extra: Any) -> dict:
    doc = {"userId": user, "channels": {"sms": {"address": phone},
                                        "email": {"address": user + "@example.com"}},
           "preferredChannels": ["sms", "email"]}
    doc.update(extra)
    return doc


def request(user: str, kind: str = "important", rid: str = "r1") -> dict:
    return {"userId": user, "messageType": kind, "requestId": rid,
            "content": {"subject": "Your order", "body": "Your order ships today."}}


def test_prefs_and_important_fallback(setup: Any) -> None:
    srv, orch = setup
    stored = orch.prefs_put(prefs("asha", BAD))
    assert stored["userId"] == "asha" and "createdAt" in stored
    assert orch.prefs_get("asha")["channels"]["sms"]["address"] == BAD
    res = orch.send(request("asha"))
    assert res["success"] is True and res.get("fallbackUsed") is True
    by = {c["channel"]: c["status"] for c in res["channels"]}
    assert by == {"sms": "failed", "email": "sent"}
    assert len(srv.paths) == 2
    again = orch.send(request("asha"))          # same requestId: nothing sent twice
    assert len(srv.paths) == 2 and again["success"] is True
    orch.prefs_delete("asha")
    with pytest.raises(omni.OmniError) as err:
        orch.prefs_get("asha")
    assert err.value.code == "NOT_FOUND"


def test_quiet_hours_defer_and_bulk(setup: Any) -> None:
    srv, orch = setup
    orch.prefs_put(prefs("ravi", "+14155550100",
                         quietHours={"start": "11:00", "end": "13:00", "timezone": "UTC"}))
    res = orch.send(request("ravi", "informational", "r2"))
    [ch] = res["channels"]
    assert ch["status"] == "scheduled" and ch["scheduledAt"] == "2026-01-01T13:00:00.000Z"
    assert srv.paths == []
    urgent = orch.send(request("ravi", "urgent", "r3"))
    assert any(c["status"] == "sent" for c in urgent["channels"])
    bulk = orch.send_bulk({"notifications": [request("ravi", "informational", "r4"),
                                             {"userId": "ravi"}]})
    assert bulk["summary"]["total"] == 2 and bulk["summary"]["failed"] == 1
    assert bulk["results"][1]["error"]["code"] == "INVALID_ARGUMENT"


def test_errors(setup: Any) -> None:
    _, orch = setup
    with pytest.raises(omni.OmniError) as err:
        orch.send(request("nobody"))
    assert err.value.code == "NOT_FOUND"
    with pytest.raises(omni.OmniError):
        orch.prefs_put({"userId": "x", "channels": {"fax": {}}})
    with pytest.raises(TypeError):
        omni.Orchestrator("delivery", {})  # type: ignore[arg-type]
    with pytest.raises(omni.OmniError) as err:
        omni.Orchestrator(orch.delivery, {"channels": {"sms": {}}})
    assert err.value.code == "INVALID_CONFIG"
    orch.close()
    with pytest.raises(omni.OmniError):
        orch.send(request("nobody"))
