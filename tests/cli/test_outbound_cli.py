"""omni outbound build | parse: the carrier adapters through the CLI, on the golden
files of tests/data/outbound (the exact request a provider's API takes) and a
rate-limited response; secrets from the environment never printed.

omni outbound send | tick | get | dlq: the delivery engine over an SQLite store
against a real HTTP server on 127.0.0.1 answering like Twilio's Messages API
(201 queued, or scripted 429 / 503 / 400 answers): exactly-once sends,
duplicates, stored retries sent by tick at their due time, dead letters listed,
redriven and purged, and the argument / configuration errors."""
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "outbound")


def golden(provider, case):
    with open(os.path.join(DATA, provider, case + ".json"), encoding="utf-8") as f:
        return json.load(f)


def headers(req):
    h = req["headers"]
    return dict(h) if isinstance(h, list) else h


def test_build_twilio_sms_matches_golden(omni, tmp_path):
    g = golden("twilio", "sms_text")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(g["config"]))
    r = omni("--now", g["now"], "outbound", "build", "--config", str(cfg),
             input=json.dumps(g["event"]))
    assert r.code == 0, r.err
    req = r.json()
    assert req["method"] == g["request"]["method"]
    assert req["url"] == g["request"]["url"]
    assert headers(req) == g["request"]["headers"]
    assert req["body"] == g["request"]["body"]


def test_build_whatsapp_with_secret_from_environment(omni, tmp_path):
    g = golden("whatsapp", "text")
    cfg = dict(g["config"])
    token = cfg["whatsapp"]["accessToken"]
    cfg["whatsapp"] = dict(cfg["whatsapp"], accessToken={"env": "OMNI_TEST_WA_TOKEN"})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    r = omni("outbound", "build", "--config", str(path), "--carrier", "whatsapp",
             input=json.dumps(g["event"]), env={"OMNI_TEST_WA_TOKEN": token})
    assert r.code == 0, r.err
    assert headers(r.json())["Authorization"] == "Bearer " + token
    r = omni("outbound", "build", "--config", str(path), "--carrier", "whatsapp",
             input=json.dumps(g["event"]), env={"OMNI_TEST_WA_TOKEN": ""})
    assert r.code == 2
    err = r.error()
    assert err["code"] == "INVALID_CONFIG" and "OMNI_TEST_WA_TOKEN" in err["message"]


def test_parse_rate_limited(omni, tmp_path):
    g = golden("twilio", "sms_text")
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(g["config"]))
    resp = {"status": 429, "headers": {"Retry-After": "30", "Content-Type": "application/json"},
            "body": json.dumps({"code": 20429, "message": "Too Many Requests", "status": 429})}
    r = omni("outbound", "parse", "--config", str(cfg), "--carrier", "twilio",
             input=json.dumps(resp))
    assert r.code == 0, r.err
    res = r.json()
    assert res["success"] is False
    assert res["error"]["retryable"] is True
    assert res["retryAfterMs"] == 30000
    assert g["config"]["twilio"]["authToken"] not in r.text


def test_errors(omni, tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text('{"pigeon": {}}')
    r = omni("outbound", "build", "--config", str(cfg), input="{}")
    assert r.code == 2 and r.error()["code"] == "INVALID_CONFIG"
    cfg.write_text("{}")
    r = omni("outbound", "build", "--config", str(cfg), "--carrier", "pigeon",
             input='{"recipient":{"channelIdentifier":"+1"},"message":{}}')
    assert r.code != 0 and r.error()["code"] == "UNKNOWN_CARRIER"
    r = omni("outbound", "build", input="{}")
    assert r.code == 2
    r = omni("outbound", "parse", "--config", str(cfg), input="{}")
    assert r.code == 2
    r = omni("outbound", "frobnicate")
    assert r.code == 2


# ---- the delivery engine ------------------------------------------------------------------

T0 = "2026-01-01T00:00:00Z"
SECRET = "tw-cli-secret-0001"
MESSAGES_PATH = "/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json"


class FakeTwilio:
    """An HTTP server on 127.0.0.1 answering like Twilio's Messages API: the
    scripted answers first (in order), then 201 {"sid": "SM<n>", "status": "queued"}."""

    def __init__(self):
        self.requests = []
        self.script = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode()
                with fake.lock:
                    fake.requests.append({"path": self.path, "body": body,
                                          "auth": self.headers.get("Authorization")})
                    index = len(fake.requests)
                    answer = fake.script.pop(0) if fake.script else None
                if answer is None:
                    answer = (201, {}, {"sid": "SM%04d" % index, "status": "queued"})
                status, headers, doc = answer
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def push(self, status, doc, headers=None):
        with self.lock:
            self.script.append((status, headers or {}, doc))

    def count(self):
        with self.lock:
            return len(self.requests)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def twilio():
    srv = FakeTwilio()
    yield srv
    srv.stop()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sms(corr="corr-1", to="+14155550100", options=None):
    ev = {"correlationId": corr, "messageType": "reply",
          "recipient": {"customerId": "c1", "channelIdentifier": to, "carrier": "twilio",
                        "channel": "sms"},
          "message": {"content": "Hello from the CLI", "contentType": "text"},
          "routing": {"accountId": "acc-1", "conversationId": "conv-1",
                      "fromNumber": "+14155550199"}}
    if options:
        ev["options"] = options
    return json.dumps(ev)


class Dlv:
    """Runs `omni outbound <cmd> --store sqlite:... --config ...` with --now."""

    def __init__(self, omni, tmp_path, base_url, delivery=None, transport=None):
        self.omni = omni
        self.store = "sqlite:" + str(tmp_path / "delivery.db")
        cfg = {"outbound": {"twilio": {"accountSid": "AC00000000000000000000000000000001",
                                       "authToken": SECRET, "baseUrl": base_url}},
               "delivery": delivery if delivery is not None else
               {"retryPolicy": {"maxRetries": 2, "initialBackoff": 10, "maxBackoff": 10}},
               "transport": transport or {"timeoutMs": 3000, "connectTimeoutMs": 3000}}
        self.config = tmp_path / "delivery.json"
        self.config.write_text(json.dumps(cfg))

    def __call__(self, *args, input=None, now=T0):
        extra = ["--now", now] if now else []
        r = self.omni("outbound", *args, "--store", self.store, "--config", str(self.config),
                      *extra, input=input)
        assert SECRET.encode() not in r.out + r.err
        return r

    def ok(self, *args, input=None, now=T0):
        r = self(*args, input=input, now=now)
        assert r.code == 0, r.err
        return r.json()


def test_send_delivers_once_and_a_repeat_is_a_duplicate(omni, tmp_path, twilio):
    d = Dlv(omni, tmp_path, twilio.url)
    first = d.ok("send", input=sms("corr-1"))
    assert first["success"] is True
    assert first["correlationId"] == "corr-1"
    assert "duplicate" not in first
    dl = first["delivery"]
    assert dl["status"] == "queued" and dl["carrier"] == "twilio"
    assert dl["carrierMessageId"] == "SM0001" and dl["attempts"] == 1
    assert dl["timestamp"] == "2026-01-01T00:00:00.000Z"
    assert first["tracking"]["trackingId"] == dl["messageId"]
    assert twilio.count() == 1
    req = twilio.requests[0]
    assert req["path"] == MESSAGES_PATH
    assert "Body=Hello+from+the+CLI" in req["body"] and "To=%2B14155550100" in req["body"]
    assert req["auth"].startswith("Basic ")

    # a second process with the same event: found in the store, never sent again
    again = d.ok("send", input=sms("corr-1"))
    assert again["duplicate"] is True
    assert again["delivery"]["messageId"] == dl["messageId"]
    assert again["delivery"]["carrierMessageId"] == "SM0001"
    assert twilio.count() == 1

    # the host's own idempotency key wins over correlationId/recipient
    k1 = d.ok("send", "--idempotency-key", "order-77", input=sms("corr-2"))
    k2 = d.ok("send", "--idempotency-key=order-77", input=sms("corr-3"))
    assert k1["success"] is True and "duplicate" not in k1
    assert k2["duplicate"] is True and k2["correlationId"] == "corr-2"
    assert twilio.count() == 2

    rec = d.ok("get", dl["messageId"])
    assert rec["messageId"] == dl["messageId"] and rec["state"] == "delivered"
    assert rec["correlationId"] == "corr-1"
    assert [a["outcome"] for a in rec["attempts"]] == ["accepted"]
    assert rec["attempts"][0]["httpStatus"] == 201


def test_send_reads_the_event_from_a_file(omni, tmp_path, twilio):
    d = Dlv(omni, tmp_path, twilio.url)
    ev = tmp_path / "event.json"
    ev.write_text(sms("corr-file"))
    r = d.ok("send", str(ev))
    assert r["success"] is True and r["correlationId"] == "corr-file"
    assert twilio.count() == 1


def test_rate_limited_send_stays_pending_until_tick_at_its_due_time(omni, tmp_path, twilio):
    d = Dlv(omni, tmp_path, twilio.url)
    twilio.push(429, {"code": 20429, "message": "Too Many Requests", "status": 429},
                {"Retry-After": "30"})
    r = d.ok("send", input=sms("corr-429"))
    assert r["success"] is False
    assert r["delivery"]["status"] == "pending"
    assert r["delivery"]["nextAttemptAt"] == "2026-01-01T00:00:30.000Z"
    assert r["error"]["code"] == "RATE_LIMITED" and r["error"]["retryable"] is True
    assert twilio.count() == 1

    early = d.ok("tick", now="2026-01-01T00:00:29.999Z")
    assert early["processed"] == 0 and early["sent"] == 0
    assert early["nextDueAt"] == "2026-01-01T00:00:30.000Z"
    assert twilio.count() == 1

    due = d.ok("tick", "--limit", "10", now="2026-01-01T00:00:30Z")
    assert due["processed"] == 1 and due["sent"] == 1
    assert due["nextDueAt"] is None
    assert twilio.count() == 2

    rec = d.ok("get", r["delivery"]["messageId"], now="2026-01-01T00:00:31Z")
    assert rec["state"] == "delivered"
    assert [a["outcome"] for a in rec["attempts"]] == ["retry", "accepted"]
    assert rec["attempts"][0]["httpStatus"] == 429
    # nothing left to do
    assert d.ok("tick", now="2026-01-01T00:01:00Z")["processed"] == 0
    assert twilio.count() == 2


def test_deadline_waits_for_the_retry_inline(omni, tmp_path, twilio):
    d = Dlv(omni, tmp_path, twilio.url)
    twilio.push(503, {"code": 20503, "message": "Service unavailable", "status": 503})
    r = d.ok("send", "--deadline-ms", "5000", input=sms("corr-503"))
    assert r["success"] is True, r
    assert r["delivery"]["attempts"] == 2
    assert twilio.count() == 2


def test_retries_exhausted_dead_letter(omni, tmp_path, twilio):
    d = Dlv(omni, tmp_path, twilio.url,
            delivery={"retryPolicy": {"maxRetries": 0}})
    twilio.push(503, {"code": 20503, "message": "Service unavailable", "status": 503})
    r = d.ok("send", input=sms("corr-x"))
    assert r["delivery"]["status"] == "failed"
    assert r["error"]["code"] == "RETRIES_EXHAUSTED"
    letter = d.ok("dlq", "get", r["delivery"]["messageId"])
    assert letter["reason"]["code"] == "RETRIES_EXHAUSTED"


def test_bad_request_dead_letters_then_redrive_and_tick_send_it(omni, tmp_path, twilio):
    d = Dlv(omni, tmp_path, twilio.url)
    twilio.push(400, {"code": 21211, "message": "The 'To' number is not a valid phone number.",
                      "status": 400})
    r = d.ok("send", input=sms("corr-400"))
    assert r["success"] is False
    assert r["delivery"]["status"] == "failed"
    assert r["error"]["code"] == "INVALID_RECIPIENT" and r["error"]["retryable"] is False
    mid = r["delivery"]["messageId"]
    assert twilio.count() == 1

    page = d.ok("dlq", "list")
    assert page["next"] is None
    assert [i["messageId"] for i in page["items"]] == [mid]
    item = page["items"][0]
    assert item["correlationId"] == "corr-400"
    assert item["carrier"] == "twilio"
    assert item["reason"]["code"] == "INVALID_RECIPIENT"
    assert item["deadAt"] == "2026-01-01T00:00:00.000Z"
    assert len(item["attempts"]) == 1
    assert json.loads(sms("corr-400"))["correlationId"] == item["event"]["correlationId"]
    assert d.ok("dlq", "get", mid)["messageId"] == mid

    # a tick does not touch a dead letter
    assert d.ok("tick", now="2026-01-01T00:10:00Z")["processed"] == 0

    red = d.ok("dlq", "redrive", mid, now="2026-01-01T00:10:00Z")
    assert red["delivery"]["messageId"] == mid
    assert red["delivery"]["status"] == "pending"
    assert d.ok("dlq", "list", now="2026-01-01T00:10:00Z")["items"] == []
    t = d.ok("tick", now="2026-01-01T00:10:00Z")
    assert t["processed"] == 1 and t["sent"] == 1
    assert twilio.count() == 2
    rec = d.ok("get", mid, now="2026-01-01T00:10:00Z")
    assert rec["state"] == "delivered"
    assert len(rec["attempts"]) == 2

    # redriving something that is not a dead letter (any more)
    r = d("dlq", "redrive", mid, now="2026-01-01T00:10:00Z")
    assert r.code == 1 and r.error()["code"] in ("NOT_FOUND", "CONFLICT")


def test_dlq_pages_and_purge(omni, tmp_path, twilio):
    d = Dlv(omni, tmp_path, twilio.url)
    ids = []
    for i in range(3):
        twilio.push(400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400})
        ids.append(d.ok("send", input=sms("corr-p%d" % i))["delivery"]["messageId"])
    first = d.ok("dlq", "list", "--limit", "2")
    assert len(first["items"]) == 2 and first["next"]
    second = d.ok("dlq", "list", "--limit", "2", "--cursor", first["next"])
    assert len(second["items"]) == 1 and second["next"] is None
    listed = [i["messageId"] for i in first["items"] + second["items"]]
    assert sorted(listed) == sorted(ids)

    assert d.ok("dlq", "purge", ids[0]) == {"purged": 1}
    r = d("dlq", "get", ids[0])
    assert r.code == 1 and r.error()["code"] == "NOT_FOUND"
    assert d.ok("dlq", "purge", "--all") == {"purged": 2}
    assert d.ok("dlq", "list") == {"items": [], "next": None}
    assert d.ok("dlq", "purge", "--all") == {"purged": 0}
    # the message records stay final
    assert d.ok("get", ids[1])["state"] == "dead"


def test_a_connection_failure_is_a_result_not_an_error(omni, tmp_path):
    d = Dlv(omni, tmp_path, "http://127.0.0.1:%d" % free_port())
    r = d.ok("send", input=sms("corr-down"))
    assert r["success"] is False
    assert r["delivery"]["status"] == "pending"
    assert r["error"]["code"] == "CONNECTION_FAILED" and r["error"]["retryable"] is True
    # full jitter within initialBackoff 10 ms (a retry drawn as 0 ms is sent at once)
    assert "2026-01-01T00:00:00.000Z" <= r["delivery"]["nextAttemptAt"] \
        <= "2026-01-01T00:00:00.010Z"


def test_build_takes_the_delivery_form_of_config(omni, tmp_path, twilio):
    d = Dlv(omni, tmp_path, twilio.url)
    r = omni("outbound", "build", "--config", str(d.config), input=sms("corr-b"))
    assert r.code == 0, r.err
    req = r.json()
    assert req["url"] == twilio.url + MESSAGES_PATH
    assert twilio.count() == 0


def test_delivery_argument_and_config_errors(omni, tmp_path, twilio):
    d = Dlv(omni, tmp_path, twilio.url)

    def usage(*args, input=None):
        r = d(*args, input=input)
        assert r.code == 2, (args, r.err)
        return r.error()

    assert usage("tick", "extra")["code"] == "INVALID_ARGUMENT"
    assert "--limit" in usage("send", "--limit", "3", input=sms())["message"]
    assert "--deadline-ms" in usage("tick", "--deadline-ms", "3")["message"]
    assert "--all" in usage("get", "x", "--all")["message"]
    assert "MESSAGE_ID" in usage("get")["message"]
    assert "MESSAGE_ID" in usage("dlq", "get")["message"]
    assert "MESSAGE_ID" in usage("dlq", "redrive")["message"]
    assert "list" in usage("dlq")["message"]
    assert "frob" in usage("dlq", "frob")["message"]
    assert "not both" in usage("dlq", "purge")["message"]
    assert "not both" in usage("dlq", "purge", "x", "--all")["message"]
    assert usage("dlq", "list", "extra")["code"] == "INVALID_ARGUMENT"
    assert "--limit" in usage("tick", "--limit", "abc")["message"]
    assert "--limit" in usage("tick", "--limit", "-1")["message"]
    assert usage("tick", "--limit", "0")["code"] == "INVALID_ARGUMENT"
    assert usage("tick", "--limit", "1001")["code"] == "INVALID_ARGUMENT"
    assert usage("dlq", "list", "--limit", "0")["code"] in ("INVALID_ARGUMENT", "INVALID_CONFIG")
    assert "--deadline-ms" in usage("send", "--deadline-ms", "soon", input=sms())["message"]
    assert usage("send", "--deadline-ms", "86400001", input=sms())["code"] == "INVALID_ARGUMENT"
    assert usage("send", input="{not json")["code"] == "INVALID_JSON"
    assert usage("send", input='{"correlationId": "c"}')["code"] == "INVALID_ARGUMENT"
    assert usage("send", "--store")["code"] == "INVALID_ARGUMENT"  # value missing
    assert twilio.count() == 0

    r = omni("outbound", "tick", "--store", d.store)
    assert r.code == 2 and "--config" in r.error()["message"]
    r = omni("outbound", "tick", "--config", str(tmp_path / "missing.json"))
    assert r.code == 2 and "missing.json" in r.error()["message"]
    r = d("get", "no-such-message")
    assert r.code == 1 and r.error()["code"] == "NOT_FOUND"
    r = omni("outbound", "send", "--store", "bogus:x", "--config", str(d.config),
             input=sms())
    assert r.code == 1 and r.error()["code"] == "UNSUPPORTED"
    r = omni("--now", "yesterday", "outbound", "tick", "--config", str(d.config))
    assert r.code == 2
    r = omni("--seed", "-4", "outbound", "tick", "--config", str(d.config))
    assert r.code == 2 and "--seed" in r.error()["message"]

    def bad_config(doc, code="INVALID_CONFIG", text=None):
        path = tmp_path / "bad.json"
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
        r = omni("outbound", "tick", "--store", d.store, "--config", str(path))
        assert r.code == 2, (doc, r.err)
        err = r.error()
        assert err["code"] == code, err
        if text:
            assert text in err["message"], err
        assert SECRET.encode() not in r.out + r.err
        return err

    good = json.loads(d.config.read_text())
    bad_config("{oops", "INVALID_JSON")
    bad_config("[]", text="object")
    bad_config({"delivery": {}}, text="outbound")
    bad_config(dict(good, extra={}), text="extra")
    bad_config(dict(good, outbound=None), text="outbound")
    bad_config(dict(good, transport="curl"), text="transport")
    bad_config(dict(good, delivery=[]), text="delivery")
    bad_config(dict(good, delivery={"retryPolicy": {"maxRetries": 99}}))
    bad_config(dict(good, delivery={"colour": "blue"}))
    bad_config(dict(good, delivery={"fallback": {"twilio": ["pigeon"]}}))
    bad_config(dict(good, transport={"timeoutMs": 0}))
    bad_config(dict(good, transport={"type": "warp"}))
    bad_config(dict(good, outbound={"twilio": {"accountSid": "AC1"}}))
    err = bad_config(dict(good, outbound={"twilio": dict(good["outbound"]["twilio"],
                                                         authToken={"env": "OMNI_NO_SUCH"})}))
    assert "OMNI_NO_SUCH" in err["message"]
    # "delivery" and "transport" may be null or left out
    path = tmp_path / "minimal.json"
    path.write_text(json.dumps({"outbound": good["outbound"], "delivery": None}))
    r = omni("outbound", "tick", "--store", d.store, "--config", str(path), "--now", T0)
    assert r.code == 0, r.err
    assert r.json()["processed"] == 0


def test_memory_store_and_no_transport_type(omni, tmp_path, twilio):
    # the default store is memory: (gone with the process); "type": "none" has no transport
    d = Dlv(omni, tmp_path, twilio.url)
    r = omni("outbound", "send", "--config", str(d.config), "--now", T0, input=sms("m1"))
    assert r.code == 0, r.err
    assert r.json()["success"] is True
    r = omni("outbound", "send", "--config", str(d.config), "--now", T0, input=sms("m1"))
    assert "duplicate" not in r.json()  # a new memory store
    assert twilio.count() == 2
    d2 = Dlv(omni, tmp_path, twilio.url, transport={"type": "none"})
    r = d2("send", input=sms("m2"))
    assert r.code == 1 and r.error()["code"] == "UNSUPPORTED"


def test_build_smtp_matches_golden_and_parse(omni, tmp_path):
    g = golden("smtp", "text_html")
    cfg = dict(g["config"])
    password = cfg["smtp"]["password"]
    cfg["smtp"] = dict(cfg["smtp"], password={"env": "OMNI_TEST_SMTP_PASSWORD"})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    r = omni("--now", g["now"], "outbound", "build", "--config", str(path), "--carrier", "smtp",
             input=json.dumps(g["event"]), env={"OMNI_TEST_SMTP_PASSWORD": password})
    assert r.code == 0, r.err
    req = r.json()
    assert req["method"] == "SEND" and req["url"] == g["request"]["url"]
    assert headers(req) == g["request"]["headers"]
    assert req["body"] == g["request"]["body"]
    resp = {"status": 535, "body": "535 5.7.8 Authentication credentials invalid\r\n"}
    r = omni("outbound", "parse", "--config", str(path), "--carrier", "smtp",
             input=json.dumps(resp), env={"OMNI_TEST_SMTP_PASSWORD": password})
    assert r.code == 0, r.err
    res = r.json()
    assert res["success"] is False and res["error"]["code"] == "AUTH_FAILED"
    assert res["error"]["providerCode"] == "535 5.7.8"
    assert password not in r.text


def test_usage_lists_the_delivery_commands(omni):
    r = omni("outbound", "--help")
    assert r.code == 0
    for word in ("send", "tick", "get", "dlq list", "redrive", "purge", "--store",
                 "--deadline-ms", "--idempotency-key", "sqlite:PATH"):
        assert word in r.text, word
    r = omni("outbound")
    assert r.code == 2 and "send" in r.error()["message"]
