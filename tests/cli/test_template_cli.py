"""omni render, omni sms-segments and omni template validate."""
import json


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_render_html_escaping_by_default(omni, tmp_path):
    t = write(tmp_path, "t.hbs", "<p>{{name}} {{{raw}}}</p>")
    r = omni("render", t, input='{"name":"A&B <x> \\"q\\" \'s\' `b` =","raw":"<b>"}')
    assert r.code == 0, r.err
    assert r.out == b"<p>A&amp;B &lt;x&gt; &quot;q&quot; &#x27;s&#x27; &#x60;b&#x60; &#x3D; <b></p>"


def test_render_writes_exactly_the_bytes(omni, tmp_path):
    t = write(tmp_path, "t.hbs", "line {{n}}\n")
    r = omni("render", t, input='{"n":1}')
    assert r.out == b"line 1\n"
    r = omni("render", t, "--escape", "none", input='{"n":"<&>"}')
    assert r.out == b"line <&>\n"


def test_render_json_escape(omni, tmp_path):
    t = write(tmp_path, "t.hbs", '{"body":"{{text}}"}')
    r = omni("render", t, "--escape", "json", input='{"text":"say \\"hi\\"\\n\\\\ bye"}')
    assert r.code == 0
    assert json.loads(r.out) == {"body": 'say "hi"\n\\ bye'}


def test_render_with_partials_and_data_file(omni, tmp_path):
    t = write(tmp_path, "t.hbs", "{{#each items}}{{> line}}{{/each}}")
    p = write(tmp_path, "line.hbs", "[{{name}}]")
    d = write(tmp_path, "d.json", '{"items":[{"name":"a"},{"name":"b"}]}')
    r = omni("render", t, d, "--partial", f"line={p}")
    assert r.code == 0, r.err
    assert r.out == b"[a][b]"


def test_render_mustache_mode(omni, tmp_path):
    t = write(tmp_path, "t.mustache", "{{=<% %>=}}<% greeting %>")
    r = omni("render", t, "--mode", "mustache", input='{"greeting":"hello"}')
    assert r.code == 0, r.err
    assert r.out == b"hello"


def test_render_strict_lists_every_missing_path(omni, tmp_path):
    t = write(tmp_path, "t.hbs", "{{a}} {{b.c}} {{d}}")
    r = omni("render", t, "--strict", input='{"d":1}')
    assert r.code == 1
    err = r.error()
    assert err["code"] == "MISSING_VARIABLE"
    assert sorted(err["details"]["missing"]) == ["a", "b.c"]


def test_render_syntax_error_has_line_and_column(omni, tmp_path):
    t = write(tmp_path, "t.hbs", "ok\n{{#if x}}unclosed")
    r = omni("render", t, input="{}")
    assert r.code == 1
    err = r.error()
    assert err["code"] == "TEMPLATE_SYNTAX_ERROR"
    assert err["details"]["line"] >= 2


def test_render_usage(omni, tmp_path):
    assert omni("render").code == 2
    t = write(tmp_path, "t.hbs", "x")
    assert omni("render", t, "--partial", "nofile").code == 2
    assert omni("render", t, "--bogus", input="{}").code == 2
    r = omni("render", t, input="{not json")
    assert r.code == 2 and r.error()["code"] == "INVALID_JSON"
    r = omni("render", t, "--escape", "xml", input="{}")
    assert r.code == 2 and r.error()["code"] == "INVALID_CONFIG"


def test_sms_segments_gsm_and_ucs2(omni):
    r = omni("sms-segments", "a" * 160)
    assert r.json() == {"encoding": "GSM-7", "segments": 1, "units": 160, "parts": ["a" * 160]}
    r = omni("sms-segments", "a" * 161)
    doc = r.json()
    assert doc["segments"] == 2 and doc["parts"] == ["a" * 153, "a" * 8]
    r = omni("sms-segments", input="नमस्ते")
    doc = r.json()
    assert doc["encoding"] == "UCS-2" and doc["units"] == 6 and doc["segments"] == 1
    r = omni("sms-segments", "{" * 80)  # extension characters count as two septets
    assert r.json()["units"] == 160 and r.json()["segments"] == 1


def test_sms_segments_rejects_invalid_utf8(omni):
    r = omni("sms-segments", input=b"\xff\xfe")
    assert r.code == 2 and r.error()["code"] == "INVALID_ENCODING"


def test_template_validate(omni, tmp_path):
    doc = {
        "templateId": "promo-1", "name": "Promo", "category": "promotional",
        "channels": ["sms", "email"],
        "content": {"body": "Hi {{name}}, 20% off today!"},
        "variables": [{"name": "name", "required": True}],
    }
    t = write(tmp_path, "promo.json", json.dumps(doc))
    r = omni("template", "validate", "--channel", "sms", t)
    out = r.json()
    codes = {f["code"] for f in out["findings"]}
    assert "SMS_MISSING_OPT_OUT" in codes
    r = omni("template", "validate", "--channel", "email", t)
    codes = {f["code"] for f in r.json()["findings"]}
    assert "MISSING_SUBJECT" in codes
    assert r.code == 1 and r.json()["valid"] is False
    doc["content"]["body"] += " Reply STOP to opt out."
    t.write_text(json.dumps(doc))
    data = write(tmp_path, "data.json", '{"name":"Asha"}')
    r = omni("template", "validate", "--channel", "sms", "--data", data, t)
    assert r.code == 0, r.out
    assert r.json()["valid"] is True
    assert r.json()["sms"]["segments"] == 1


def test_template_validate_usage(omni, tmp_path):
    t = write(tmp_path, "t.hbs", "x")
    assert omni("template").code == 2
    assert omni("template", "validate", t).code == 2, "--channel required"
    r = omni("template", "validate", "--channel", "fax", t)
    assert r.code == 2
