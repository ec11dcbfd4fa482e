"""omni notify: preferences put/get/delete, send and send-bulk against a local
HTTP server answering like Twilio, usage and error exits."""
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

NOW = "2026-01-01T00:00:00Z"
PREFS = {"userId": "u1", "channels": {"sms": {"address": "+14155550123"}}}


class Twilio(BaseHTTPRequestHandler):
    bodies = []

    def do_POST(self):  # noqa: N802
        n = int(self.headers.get("Content-Length", 0))
        Twilio.bodies.append(self.rfile.read(n).decode())
        body = json.dumps({"sid": "SM" + "0" * 32, "status": "queued"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def twilio():
    Twilio.bodies = []
    srv = HTTPServer(("127.0.0.1", 0), Twilio)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    srv.server_close()


def config(tmp_path, url):
    cfg = {"orchestrator": {"channels": {"sms": {"carrier": "twilio", "from": "+14155550100"}}},
           "outbound": {"twilio": {"accountSid": "AC" + "0" * 31 + "1", "authToken": "t",
                                   "baseUrl": url}}}
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg))
    return p


def test_prefs_put_get_delete(omni, tmp_path):
    store = f"sqlite:{tmp_path / 'n.db'}"
    r = omni("notify", "prefs", "put", "--store", store, "--now", NOW, input=json.dumps(PREFS))
    assert r.code == 0, r.err
    assert r.json()["createdAt"] == "2026-01-01T00:00:00.000Z"
    r = omni("notify", "prefs", "get", "--store", store, "u1")
    assert r.code == 0 and r.json()["channels"]["sms"]["address"] == "+14155550123"
    r = omni("notify", "prefs", "delete", "--store", store, "u1")
    assert r.code == 0 and r.json() == {"deleted": True}
    r = omni("notify", "prefs", "get", "--store", store, "u1")
    assert r.code == 1 and r.error()["code"] == "NOT_FOUND"


def test_prefs_invalid(omni):
    r = omni("notify", "prefs", "put", input='{"userId":"u1","channels":{"fax":{}}}')
    assert r.code == 2 and "channels.fax" in r.error()["message"]


def test_send_and_bulk(omni, tmp_path, twilio):
    store = f"sqlite:{tmp_path / 'n.db'}"
    assert omni("notify", "prefs", "put", "--store", store, input=json.dumps(PREFS)).code == 0
    cfg = config(tmp_path, twilio)
    req = {"userId": "u1", "messageType": "urgent", "requestId": "r1",
           "content": {"body": "Hello"}}
    r = omni("notify", "send", "--config", cfg, "--store", store, input=json.dumps(req))
    assert r.code == 0, r.err
    res = r.json()
    assert res["success"] is True
    assert res["channels"][0]["channel"] == "sms" and res["channels"][0]["status"] == "sent"
    assert len(Twilio.bodies) == 1 and "Body=Hello" in Twilio.bodies[0]
    # the same request again sends nothing
    r = omni("notify", "send", "--config", cfg, "--store", store, input=json.dumps(req))
    assert r.code == 0 and len(Twilio.bodies) == 1
    bulk = {"notifications": [dict(req, requestId="r2"),
                              {"userId": "u1", "messageType": "x", "content": {"body": "b"}}]}
    r = omni("notify", "send-bulk", "--config", cfg, "--store", store, input=json.dumps(bulk))
    assert r.code == 0, r.err
    out = r.json()
    assert out["summary"] == {"total": 2, "succeeded": 1, "failed": 1}
    assert out["results"][1]["error"]["code"] == "INVALID_ARGUMENT"


def test_usage_errors(omni, tmp_path, twilio):
    assert omni("notify").code == 2
    assert omni("notify", "bogus").code == 2
    assert omni("notify", "send", input="{}").code == 2  # no --config
    assert omni("notify", "prefs").code == 2
    assert omni("notify", "prefs", "get").code == 2
    assert omni("notify", "prefs", "put", "--config", "x").code == 2
    assert omni("notify", "--help").code == 0
    r = omni("notify", "send", "--config", config(tmp_path, twilio), input="{")
    assert r.code == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"outbound": {}}')
    r = omni("notify", "send", "--config", bad, input="{}")
    assert r.code == 2 and "orchestrator" in r.error()["message"]
