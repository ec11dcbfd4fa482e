#!/bin/sh
# `make demo`: what libomni does so far, through the real `omni` CLI. Until
# the pipeline issue lands `omni demo`, this shows what exists: derived
# identifiers, reproducible runs, JWTs, encodings, signed carrier webhooks,
# phone numbers, templates and SMS segments, conversations, pre-routing,
# outbound requests, delivery through a local stand-in provider, and push
# notifications to a local stand-in for APNs.
# Exits non-zero
# when any result differs from what it must be.
set -eu
build="${1:-build}"
omni="$build/examples/cli/omni"
fail=0

check() { # name expected actual
  if [ "$2" = "$3" ]; then
    printf '  %-44s ok\n' "$1"
  else
    printf '  %-44s FAILED\n    expected: %s\n    actual:   %s\n' "$1" "$2" "$3"
    fail=1
  fi
}

echo "libomni demo — $("$omni" --version)"
echo
echo "Deterministic ids: the same sender always maps to the same customer id"
a=$("$omni" uuid5 dns "whatsapp:+14155550100")
b=$("$omni" uuid5 dns "whatsapp:+14155550100")
printf '  whatsapp:+14155550100 -> %s\n' "$a"
check "uuid5 is stable across runs" "$a" "$b"
check "uuid5 RFC 9562 A.4 vector" "2ed6657d-e927-568b-95e1-2665a8aea6a2" \
      "$("$omni" uuid5 dns www.example.com)"

echo
echo "Reproducible runs: --now and --seed pin the clock and random hooks"
u1=$("$omni" --now 2026-11-22T09:30:00Z --seed 42 uuid7 --count 3 | tr '\n' ' ')
u2=$("$omni" --now 2026-11-22T09:30:00Z --seed 42 uuid7 --count 3 | tr '\n' ' ')
printf '  %s\n' "$u1"
check "uuid7 with --now/--seed is reproducible" "$u1" "$u2"

echo
echo "JWT (HS256) as MessageBird signs webhooks; secret from the environment"
export OMNI_DEMO_SECRET="demo-signing-key"
token=$(echo '{"url_hash":"abc","payload_hash":"def"}' |
        "$omni" --now 2026-11-22T09:30:00Z jwt sign --alg HS256 --secret-env OMNI_DEMO_SECRET \
        --iat --expires-in 300)
printf '  token: %.60s...\n' "$token"
claims=$(echo "$token" | "$omni" --now 2026-11-22T09:31:00Z jwt verify --alg HS256 \
         --secret-env OMNI_DEMO_SECRET)
check "verifies a minute later" \
      '{"url_hash":"abc","payload_hash":"def","iat":1795339800,"exp":1795340100}' "$claims"
set +e
late=$(echo "$token" | "$omni" --now 2026-11-22T09:40:00Z jwt verify --alg HS256 \
       --secret-env OMNI_DEMO_SECRET 2>&1)
code=$?
forged=$(echo "$token" | "$omni" --now 2026-11-22T09:31:00Z jwt verify --alg HS256 \
         --secret forged 2>&1)
fcode=$?
set -e
check "refused ten minutes later (exit 1)" "1 TOKEN_EXPIRED" \
      "$code $(echo "$late" | sed 's/.*"code":"\([A-Z_]*\)".*/\1/')"
check "forged secret refused (exit 1)" "1 SIGNATURE_INVALID" \
      "$fcode $(echo "$forged" | sed 's/.*"code":"\([A-Z_]*\)".*/\1/')"

echo
echo "base64url (JOSE, Web Push keys)"
enc=$(printf 'omnichannel \373\377' | "$omni" base64url encode)
check "encode" "b21uaWNoYW5uZWwg-_8" "$enc"
check "decode round trip" "omnichannel" "$(echo "$enc" | "$omni" base64url decode | head -c 11)"

echo
echo "Inbound: a signed Twilio SMS webhook, verified and parsed (fixture from tests/data)"
tw=tests/data/webhooks/twilio/sms.json
token="test-auth-token-0123456789abcdef"
events=$("$omni" --now 2026-11-22T09:30:00Z webhook parse --carrier twilio --secret "$token" "$tw")
printf '  %.110s...\n' "$events"
check "sender normalized to E.164" '"phoneNumber":"+14155550199"' \
      "$(echo "$events" | grep -o '"senderIdentifier":{"phoneNumber":"[^"]*"' | sed 's/"senderIdentifier":{//')"
set +e
"$omni" webhook verify --carrier twilio --secret forged "$tw" >/dev/null 2>&1
fcode=$?
set -e
check "forged auth token refused (exit 1)" "1" "$fcode"

echo
echo "Phone numbers as people write them -> E.164"
check "DE trunk 0"      "+493012345678" "$("$omni" phone --region DE '030 1234-5678' | sed 's/.*"e164":"\([^"]*\)".*/\1/')"
check "IT keeps its 0"  "+390612345678" "$("$omni" phone --region IT '06 1234 5678' | sed 's/.*"e164":"\([^"]*\)".*/\1/')"
check "WhatsApp wa_id"  "+919876543210" "$("$omni" phone 'whatsapp:+919876543210' | sed 's/.*"e164":"\([^"]*\)".*/\1/')"

echo
echo "Templates: an SMS rendered for India, counted as the network counts it"
tmpl=$(mktemp)
printf 'Hi {{name}}, {{formatCurrency total "INR" "en-IN"}} is due {{formatDate due "d MMM"}}.' > "$tmpl"
sms=$(echo '{"name":"Asha","total":123456.5,"due":"2026-11-25T10:00:00Z"}' |
      "$omni" render "$tmpl" --escape none)
rm -f "$tmpl"
printf '  %s\n' "$sms"
check "rendered with Indian grouping" "Hi Asha, ₹1,23,456.50 is due 25 Nov." "$sms"
check "Hindi text is UCS-2, one segment" '"encoding":"UCS-2","segments":1' \
      "$("$omni" sms-segments 'नमस्ते आशा, आपका ऑर्डर भेज दिया गया है' | grep -o '"encoding":"UCS-2","segments":1')"

echo
echo "Conversations: exactly once, over an SQLite file kept between runs"
dir=$(mktemp -d)
store="sqlite:$dir/conversations.db"
msg() { # id content
  printf '{"correlationId":"c-%s","identity":{"customerId":"cust-asha"},"routing":{"accountId":"acc-1"},"enrichedMessage":{"id":"%s","carrier":"whatsapp","channelType":"chat","content":"%s","contentType":"text"}}' "$1" "$1" "$2"
}
field() { sed "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/"; }
r1=$(msg wamid.1 "Hi, where is my order?" | "$omni" --now 2026-11-22T09:30:00Z conversation step --store "$store")
cid=$(echo "$r1" | sed 's/.*"conversationId":"\([^"]*\)".*/\1/')
r2=$(msg wamid.2 "It was due yesterday" | "$omni" --now 2026-11-22T09:31:00Z conversation step --store "$store")
again=$(msg wamid.1 "Hi, where is my order?" | "$omni" --now 2026-11-22T09:32:00Z conversation step --store "$store")
printf '  conversation %s\n' "$cid"
check "first message creates it (new, #1)" "new 1" \
      "$(echo "$r1" | sed 's/.*"status":"\([a-z]*\)".*"sequenceNumber":\([0-9]*\).*/\1 \2/')"
check "second continues it (active, #2)" "active 2" \
      "$(echo "$r2" | sed 's/.*"status":"\([a-z]*\)".*"sequenceNumber":\([0-9]*\).*/\1 \2/')"
check "redelivery answers the first result" '"duplicate":true #1' \
      "$(echo "$again" | grep -o '"duplicate":true') #$(echo "$again" | field sequenceNumber)"
echo '{"event":"agent_assigned","agentId":"agent-7"}' |
  "$omni" --now 2026-11-22T09:33:00Z conversation transition --store "$store" "$cid" > /dev/null
reply=$(printf '{"correlationId":"c-r","identity":{"customerId":"cust-asha"},"routing":{"accountId":"acc-1"},"enrichedMessage":{"id":"out-1","carrier":"whatsapp","channelType":"chat","content":"On its way!","contentType":"text"},"direction":"outbound"}' |
        "$omni" --now 2026-11-22T09:34:00Z conversation step --store "$store")
check "agent's reply inside the 24 h window (#3)" "3 agent-7" \
      "$(echo "$reply" | field sequenceNumber) $(echo "$reply" | field assignedTo)"
set +e
late=$(printf '{"correlationId":"c-l","identity":{"customerId":"cust-asha"},"routing":{"accountId":"acc-1"},"enrichedMessage":{"id":"out-2","carrier":"whatsapp","channelType":"chat","content":"Any news?","contentType":"text"},"direction":"outbound"}' |
       "$omni" --now 2026-11-23T10:00:00Z conversation step --store "$store" 2>&1)
lcode=$?
set -e
check "free text a day later refused (exit 1)" "1 SERVICE_WINDOW_CLOSED" \
      "$lcode $(echo "$late" | sed 's/.*"code":"\([A-Z_]*\)".*/\1/')"
hist=$("$omni" conversation history --store "$store" "$cid" | grep -o '"sequenceNumber":[0-9]*' | tr '\n' ' ')
check "history: dense sequence numbers" '"sequenceNumber":1 "sequenceNumber":2 "sequenceNumber":3 ' "$hist"

echo
echo "Pre-route: content analysis, routing rules, auto-responses, opt-out"
cat > "$dir/preroute.json" <<'JSON'
{"defaults": {
   "timeZone": "Asia/Kolkata",
   "businessHours": {"weekly": {"mon": [["09:00", "18:00"]], "tue": [["09:00", "18:00"]],
                                "wed": [["09:00", "18:00"]], "thu": [["09:00", "18:00"]],
                                "fri": [["09:00", "18:00"]]},
                     "holidays": ["2026-12-25"]},
   "autoResponses": {"greeting": {"enabled": true, "templateId": "greeting"},
                     "away": {"enabled": true, "templateId": "away"},
                     "windowSeconds": 3600},
   "optOut": {"confirmations": {"stop": "stopped"}},
   "rules": [
     {"id": "vip", "priority": 100,
      "conditions": [{"field": "identity.profile.tags", "operator": "contains", "value": "vip"}],
      "actions": [{"type": "route_to_queue", "queueId": "vip-support", "queueName": "VIP"}]},
     {"id": "billing", "priority": 80,
      "conditions": [{"field": "contentAnalysis.intent", "operator": "contains", "value": "billing"}],
      "actions": [{"type": "route_to_queue", "queueId": "billing-team", "queueName": "Billing"},
                  {"type": "add_tag", "tag": "billing-inquiry"}]}]},
 "templates": {
   "greeting": {"en": "Hi {{identity.profile.firstName}}, thanks for writing! An agent will reply shortly.",
                "hi": "नमस्ते {{identity.profile.firstName}}, लिखने के लिए धन्यवाद!"},
   "away": {"en": "We are closed now (9:00-18:00 IST, Mon-Fri) and will answer in the morning."},
   "stopped": {"en": "You will get no more messages. Reply START to resubscribe."}}}
JSON
pre() { # time status content
  printf '{"correlationId":"c-p","conversation":{"conversationId":"%s","status":"%s"},"messageState":{"messageId":"m-%s","sequenceNumber":1},"routing":{"accountId":"acc-1"},"identity":{"customerId":"cust-asha","profile":{"firstName":"Asha","tags":[]},"preferences":{"language":"en"}},"message":{"id":"m-%s","content":"%s","contentType":"text","channel":"whatsapp","direction":"inbound"}}' \
    "$cid" "$2" "$1" "$1" "$3" |
    "$omni" --now "$1" preroute --config "$dir/preroute.json" --store "$store"
}
p1=$(pre 2026-11-23T05:00:00Z new "Hi, where is my order?")
check "new conversation, 10:30 IST: greeting" "greeting" "$(echo "$p1" | field responseType)"
p2=$(pre 2026-11-23T05:05:00Z active "I was charged twice, please refund me")
check "intent billing -> billing queue" "billing billing-team" \
      "$(echo "$p2" | grep -o '"intent":\["billing"' | sed 's/.*\["//;s/"//') $(echo "$p2" | grep -o '"destination":{"type":"queue","id":"[^"]*"' | sed 's/.*"id":"//;s/"//')"
p3=$(pre 2026-11-23T15:00:00Z active "Are you there?")
check "20:30 IST: away message" "away" "$(echo "$p3" | field responseType)"
p4=$(pre 2026-11-23T15:10:00Z active "Stop. Thank you")
check "\"Stop. Thank you\": opted out, confirmed" "opt_out opted_out" \
      "$(echo "$p4" | field responseType) $("$omni" preroute optout-get acc-1 cust-asha --store "$store" | field status)"
spam=$(pre 2026-11-23T15:20:00Z active "WIN A FREE IPHONE NOW!!!! CLICK bit.ly/xyz")
check "spam blocked, nothing routed" "block terminate" \
      "$(echo "$spam" | field action) $(echo "$spam" | field nextStep)"
cat > "$dir/jre.json" <<'JSON'
[{"name": "gold-billing", "priority": 10,
  "conditions": {"all": [{"fact": "identity", "path": "$.profile.tier", "operator": "in", "value": ["gold", "platinum"]},
                         {"fact": "contentAnalysis", "path": "$.intent", "operator": "contains", "value": "billing"}]},
  "event": {"type": "route_to_queue", "params": {"queueId": "gold-billing"}}}]
JSON
jre=$(printf '{"identity":{"profile":{"tier":"gold"}},"contentAnalysis":{"intent":["billing"]}}' |
      "$omni" rules eval --rules "$dir/jre.json")
check "json-rules-engine rules, unchanged" "gold-billing" \
      "$(echo "$jre" | grep -o '"matched":\["[^"]*"' | sed 's/.*\["//;s/"//')"

echo
echo "Outbound: the exact request a provider's API takes (nothing is sent)"
cat > "$dir/providers.json" <<'JSON'
{"twilio": {"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": {"env": "OMNI_DEMO_TWILIO_TOKEN"}},
 "whatsapp": {"accessToken": {"env": "OMNI_DEMO_WA_TOKEN"}, "phoneNumberId": "106540352242922"}}
JSON
reply() { # carrier channel window-open
  printf '{"correlationId":"c-out","messageType":"reply","recipient":{"customerId":"cust-asha","channelIdentifier":"+919876543210","carrier":"%s","channel":"%s"},"message":{"content":"Your order ships today","contentType":"text"},"routing":{"accountId":"acc-1","conversationId":"%s","fromNumber":"+14155550199"},"serviceWindow":{"open":%s}}' \
    "$1" "$2" "$cid" "$3"
}
export OMNI_DEMO_TWILIO_TOKEN=demo-twilio-token OMNI_DEMO_WA_TOKEN=demo-wa-token
tw=$(reply twilio sms true | "$omni" outbound build --config "$dir/providers.json")
check "Twilio Messages API request" \
      '"url":"https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"' \
      "$(echo "$tw" | grep -o '"url":"[^"]*"')"
check "form body (To, From, Body)" "To=%2B919876543210&From=%2B14155550199&Body=Your+order+ships+today" \
      "$(echo "$tw" | grep -o 'To=[^"]*Body=Your+order+ships+today')"
set +e
wa=$(reply whatsapp whatsapp false | "$omni" outbound build --config "$dir/providers.json" 2>&1)
wcode=$?
set -e
check "WhatsApp free text, window closed (exit 1)" "1 SERVICE_WINDOW_CLOSED" \
      "$wcode $(echo "$wa" | sed 's/.*"code":"\([A-Z_]*\)".*/\1/')"
unset OMNI_DEMO_TWILIO_TOKEN OMNI_DEMO_WA_TOKEN

echo
echo "Delivery: a stand-in for Twilio on 127.0.0.1 answers 429 first, then accepts"
cat > "$dir/provider.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
answers = [(429, '{"code":20429,"message":"Too Many Requests","status":429}', {"Retry-After": "1"})]
seen = []
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):  # the number of messages received
        body = str(len(seen)).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        seen.append(self.path)
        status, body, extra = answers.pop(0) if answers else \
            (201, '{"sid":"SM5f2a0c8e1b7d4f36a9e0c1d2b3a4f5e6","status":"queued"}', {})
        self.send_response(status)
        for k, v in dict(extra, **{"Content-Type": "application/json"}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body.encode())
srv = HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_address[1]))
srv.serve_forever()
PY
python3 "$dir/provider.py" "$dir/port" & provider=$!
trap 'kill $provider 2>/dev/null || true' EXIT
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$dir/port" ] && break; sleep 0.2; done
port=$(cat "$dir/port")
cat > "$dir/delivery.json" <<JSON
{"outbound": {"twilio": {"accountSid": "AC0123456789abcdef0123456789abcdef",
                         "authToken": "demo-token", "baseUrl": "http://127.0.0.1:$port"}},
 "delivery": {"retryPolicy": {"maxRetries": 3}}}
JSON
send() { reply twilio sms true | "$omni" outbound send --store "sqlite:$dir/delivery.db" --config "$dir/delivery.json"; }
first=$(send)
check "first attempt: 429, retry stored" "pending RATE_LIMITED" \
      "$(echo "$first" | grep -o '"status":"[a-z]*"' | head -1 | sed 's/.*:"//;s/"//') $(echo "$first" | grep -o '"code":"[A-Z_]*"' | sed 's/.*:"//;s/"//')"
again=$(send)
check "published again: the same message" '"duplicate":true' "$(echo "$again" | grep -o '"duplicate":true')"
sleep 1.1
ticked=$("$omni" outbound tick --store "sqlite:$dir/delivery.db" --config "$dir/delivery.json")
check "tick sends the due retry" '"sent":1' "$(echo "$ticked" | grep -o '"sent":1')"
done_=$(send)
check "result: queued with Twilio's message id" '"carrierMessageId":"SM5f2a0c8e1b7d4f36a9e0c1d2b3a4f5e6"' \
      "$(echo "$done_" | grep -o '"carrierMessageId":"[^"]*"')"
check "requests the provider received" "2" \
      "$(python3 -c "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:$port/').read().decode())")"
kill $provider 2>/dev/null || true
rm -rf "$dir"

echo
echo "Push: pushNotification to a stand-in for APNs on 127.0.0.1 (one token is gone)"
dir=$(mktemp -d)
cat > "$dir/apns.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
seen = []
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):  # the number of notifications received
        body = str(len(seen)).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        seen.append(self.path)
        gone = self.path.endswith("dd" * 32)
        body = b'{"reason":"Unregistered","timestamp":1767225600000}' if gone else b""
        self.send_response(410 if gone else 200)
        if not gone:
            self.send_header("apns-id", "5f2a0c8e-1b7d-4f36-a9e0-%012d" % len(seen))
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
srv = HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_address[1]))
srv.serve_forever()
PY
python3 "$dir/apns.py" "$dir/port" & provider=$!
trap 'kill $provider 2>/dev/null || true' EXIT
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$dir/port" ] && break; sleep 0.2; done
port=$(cat "$dir/port")
DEMO_APNS_KEY=$(cat "$(dirname "$0")/../tests/data/push/apns/AuthKey_TEST123456.p8")
export DEMO_APNS_KEY
cat > "$dir/push.json" <<JSON
{"push": {"apns": {"teamId": "ABCDE12345", "keyId": "TEST123456", "topic": "com.example.agent",
                   "privateKey": {"env": "DEMO_APNS_KEY"}, "baseUrl": "http://127.0.0.1:$port"}}}
JSON
good=$(printf 'a1%.0s' $(seq 32)); gone=$(printf 'dd%.0s' $(seq 32))
for t in "$good" "$gone"; do
  printf '{"userId":"agent-7","deviceToken":"%s","platform":"ios"}' "$t" |
    "$omni" devices register --store "sqlite:$dir/push.db" >/dev/null
done
cat > "$dir/event.json" <<'JSON'
{"correlationId": "demo-push-1", "notificationType": "new_message",
 "recipients": [{"userId": "agent-7"},
                {"userId": "agent-9", "deviceTokens": [{"token": "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2", "platform": "ios"}],
                 "preferences": {"timezone": "Asia/Kolkata", "quietHours": {"start": "22:00", "end": "07:00"}}}],
 "payload": {"title": "New message", "body": "Asha: is my order shipped?"},
 "options": {"priority": "high"}}
JSON
pushed=$("$omni" --now 2026-01-01T18:00:00Z push send --store "sqlite:$dir/push.db" --config "$dir/push.json" "$dir/event.json")
check "agent-7's phone: sent, with APNs's id" '"status":"sent","messageId":"5f2a0c8e-1b7d-4f36-a9e0-000000000001"' \
      "$(echo "$pushed" | grep -o '"status":"sent","messageId":"[^"]*"')"
check "the unregistered token: failed" '"errorCode":"INVALID_TOKEN"' "$(echo "$pushed" | grep -o '"errorCode":"INVALID_TOKEN"')"
check "agent-9 at 23:30 in Kolkata: quiet hours" '"reason":"QUIET_HOURS"' "$(echo "$pushed" | grep -o '"reason":"QUIET_HOURS"')"
check "the gone device left the registry" "1" \
      "$("$omni" devices list --store "sqlite:$dir/push.db" --user agent-7 | grep -o '"deviceToken"' | wc -l | tr -d ' ')"
"$omni" --now 2026-01-01T18:00:00Z push send --store "sqlite:$dir/push.db" --config "$dir/push.json" "$dir/event.json" >/dev/null
check "the same event again sends nothing" "2" \
      "$(python3 -c "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:$port/').read().decode())")"
kill $provider 2>/dev/null || true
rm -rf "$dir"

echo
if [ $fail -ne 0 ]; then
  echo "demo: some results differ from what they must be"
  exit 1
fi
echo "demo: all results as expected"
