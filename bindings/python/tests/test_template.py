"""Templates: compile and render, escaping modes, partials, strict mode, syntax errors,
inspect, Data reuse, threads and the handle lifecycle."""

import gc
import json
import threading
from typing import Any, Dict, List

import pytest

import omni


def test_render_with_dict_json_text_bytes_and_none() -> None:
    t = omni.Template("Hi {{name}}, order {{order.id}} ships {{order.eta}}")
    data = {"name": "Asha", "order": {"id": 42, "eta": "today"}}
    assert t.render(data) == "Hi Asha, order 42 ships today"
    assert t.render(json.dumps(data)) == "Hi Asha, order 42 ships today"
    assert t.render(json.dumps(data).encode()) == "Hi Asha, order 42 ships today"
    assert t(data) == "Hi Asha, order 42 ships today"
    assert t.render() == "Hi , order  ships "  # no data: {}
    assert omni.Template(b"{{#each .}}{{.}};{{/each}}").render([1, "two", None, True]) == (
        "1;two;;true;"
    )


def test_utf8_round_trip() -> None:
    t = omni.Template("नमस्ते {{name}} ✓")
    assert t.render({"name": "ಕನ್ನಡ 😀"}) == "नमस्ते ಕನ್ನಡ 😀 ✓"


def test_escape_modes() -> None:
    nasty = {"x": "<a href='x'>&\"`=</a>"}
    # handlebars.js escapes & < > " ' ` =
    assert omni.Template("{{x}}").render(nasty) == (
        "&lt;a href&#x3D;&#x27;x&#x27;&gt;&amp;&quot;&#x60;&#x3D;&lt;/a&gt;"
    )
    assert omni.Template("{{x}}", escape="html").render({"x": "a&b"}) == "a&amp;b"
    assert omni.Template("{{x}}", escape="none").render(nasty) == nasty["x"]
    # triple stash and {{& }} never escape
    assert omni.Template("{{{x}}}|{{& x}}").render({"x": "<b>"}) == "<b>|<b>"
    # JSON-string escaping for JSON bodies
    t = omni.Template('{"text": "{{x}}"}', escape="json")
    out = t.render({"x": 'say "hi"\nnext\\'})
    assert json.loads(out) == {"text": 'say "hi"\nnext\\'}


def test_modes_and_options() -> None:
    # mustache mode follows the spec: sections iterate, inverted sections
    m = omni.Template("{{#a}}{{.}}{{/a}}|{{^b}}none{{/b}}", mode="mustache")
    assert m.render({"a": [1, 2], "b": []}) == "12|none"
    # handlebars #if: 0 is falsy unless include_zero
    assert omni.Template("{{#if n}}y{{else}}n{{/if}}").render({"n": 0}) == "n"
    assert omni.Template("{{#if n}}y{{else}}n{{/if}}", include_zero=True).render({"n": 0}) == "y"
    # locale and time zone defaults for the format helpers
    t = omni.Template('{{formatCurrency a "INR"}} {{formatDate d "long"}}', locale="hi",
                      time_zone="Asia/Kolkata")
    assert t.render({"a": 1234567.5, "d": "2026-03-08T20:00:00Z"}) == "₹12,34,567.50 9 मार्च 2026"
    with pytest.raises(omni.OmniError) as info:
        omni.Template("x", mode="bogus")
    assert info.value.code == "INVALID_CONFIG"
    with pytest.raises(omni.OmniError) as info:
        omni.Template("x", escape="xml")
    assert info.value.code == "INVALID_CONFIG"


def test_partials() -> None:
    partials = {
        "line": "{{qty}} x {{name}}",
        "greet": "Hello {{who}}{{#if punct}}{{punct}}{{/if}}",
    }
    t = omni.Template(
        "{{#each items}}{{> line}}\n{{/each}}{{> greet who=customer punct='!'}}|{{> greet user}}",
        partials=partials,
    )
    data = {"items": [{"qty": 2, "name": "tea"}, {"qty": 1, "name": "cake"}],
            "customer": "Ravi", "user": {"who": "Meera"}}
    assert t.render(data) == "2 x tea\n1 x cake\nHello Ravi!|Hello Meera"
    assert sorted(t.inspect()["partials"]) == ["greet", "line"]
    # a self-including partial fails cleanly
    loop = omni.Template("{{> self}}", partials={"self": "x{{> self}}"})
    with pytest.raises(omni.OmniError) as info:
        loop.render({})
    assert info.value.code == "NESTING_TOO_DEEP"
    # a missing partial is a render error, not a crash
    with pytest.raises(omni.OmniError):
        omni.Template("{{> nope}}").render({})


def test_strict_mode_lists_every_missing_path() -> None:
    t = omni.Template("{{a}} {{b.c}} {{#if ok}}{{d}}{{/if}}", strict=True)
    with pytest.raises(omni.OmniError) as info:
        t.render({"b": {}, "ok": True})
    err = info.value
    assert err.code == "MISSING_VARIABLE"
    assert err.status == omni.Status.EMISSING
    assert err.details == {"missing": ["a", "b.c", "d"]}
    assert t.render({"a": 1, "b": {"c": 2}, "ok": False}) == "1 2 "
    # the same template without strict renders empty text
    assert omni.Template("{{a}}|{{b.c}}").render({}) == "|"


def test_syntax_errors_carry_line_and_column() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.Template("Hello\n  {{#if x}}unclosed")
    err = info.value
    assert err.code == "TEMPLATE_SYNTAX_ERROR"
    assert err.status == omni.Status.ESYNTAX
    assert err.details["line"] == 2
    assert isinstance(err.details["column"], int) and err.details["column"] > 0
    assert err.message.startswith("line 2, column ")
    with pytest.raises(omni.OmniError) as info:
        omni.Template("ok", partials={"p": "{{/y}}"})
    assert info.value.code == "TEMPLATE_SYNTAX_ERROR"
    assert info.value.details == {"line": 1, "column": 1, "partial": "p"}
    with pytest.raises(omni.OmniError) as info:
        omni.Template("{{name}")
    assert info.value.details == {"line": 1, "column": 7}


def test_bad_data_is_invalid_json() -> None:
    t = omni.Template("{{x}}")
    with pytest.raises(omni.OmniError) as info:
        t.render("{not json")
    assert info.value.code == "INVALID_JSON"
    with pytest.raises(omni.OmniError) as info:
        omni.Data("[1,")
    assert info.value.code == "INVALID_JSON"
    with pytest.raises(ValueError):
        t.render({"x": float("nan")})  # not JSON
    with pytest.raises(TypeError):
        t.render({"x": object()})


def test_inspect() -> None:
    t = omni.Template("{{name}} {{order.id}} {{shout x}} {{> footer}}",
                      partials={"footer": "bye {{sig}}"}, helpers={"shout": str.upper})
    info = t.inspect()
    assert set(info) == {"variables", "helpers", "partials"}
    assert "name" in info["variables"] and "order.id" in info["variables"]
    assert "shout" in info["helpers"]
    assert info["partials"] == ["footer"]


def test_data_parsed_once_reused_across_templates() -> None:
    data = omni.Data({"name": "Asha", "items": [{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 1}]})
    sms = omni.Template("Hi {{name}}, {{items.length}} items")
    email = omni.Template("<ul>{{#each items}}<li>{{sku}} x{{qty}}</li>{{/each}}</ul>")
    for _ in range(3):
        assert sms.render(data) == "Hi Asha, 2 items"
        assert email.render(data) == "<ul><li>A1 x2</li><li>B2 x1</li></ul>"
    assert data.to_python()["items"][1] == {"sku": "B2", "qty": 1}
    text = omni.Data('{"name": "Ravi"}')
    assert sms.render(text) == "Hi Ravi,  items"
    data.close()
    data.close()
    assert data.closed
    with pytest.raises(omni.OmniError) as info:
        sms.render(data)
    assert info.value.message == "data is closed"


def test_render_from_four_threads() -> None:
    calls: List[int] = []
    lock = threading.Lock()

    def tag(s: str) -> str:
        with lock:
            calls.append(1)
        return f"[{s}]"

    t = omni.Template("{{#each items}}{{tag name}}{{/each}} {{formatNumber total 2 2}}",
                      helpers={"tag": tag})
    shared = omni.Data({"items": [{"name": "x"}, {"name": "y"}], "total": 1234.5})
    errors: List[BaseException] = []
    results: Dict[int, List[str]] = {}

    def worker(n: int) -> None:
        try:
            out = []
            for i in range(200):
                if i % 2:
                    out.append(t.render(shared))
                else:
                    out.append(t.render({"items": [{"name": f"t{n}"}], "total": n}))
            results[n] = out
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    for n in range(4):
        assert results[n][0] == f"[t{n}] {n}.00"
        assert results[n][1] == "[x][y] 1,234.50"
        assert len(set(results[n])) == 2
    assert len(calls) == 4 * (100 * 1 + 100 * 2)


def test_close_is_idempotent_and_safe() -> None:
    t = omni.Template("{{x}}")
    assert not t.closed
    with t:
        assert t.render({"x": 1}) == "1"
    assert t.closed
    t.close()
    with pytest.raises(omni.OmniError) as info:
        t.render({})
    assert info.value.code == "INVALID_ARGUMENT"
    assert info.value.message == "template is closed"
    with pytest.raises(omni.OmniError):
        t.inspect()
    for _ in range(50):  # garbage collection of unclosed templates and data
        omni.Template("{{x}}", helpers={"h": lambda: 1}).render({"x": 2})
        omni.Data([1, 2, 3])
    gc.collect()


def test_closing_during_a_render_waits_for_it() -> None:
    # a helper closes the template and the data it is rendering: the handles
    # are released only after the render returns
    holder: Dict[str, Any] = {}

    def closer() -> str:
        holder["t"].close()
        holder["d"].close()
        return "closed"

    t = omni.Template("{{closer}} {{x}}", helpers={"closer": closer})
    d = omni.Data({"x": "still here"})
    holder.update(t=t, d=d)
    assert t.render(d) == "closed still here"
    assert t.closed and d.closed
    with pytest.raises(omni.OmniError):
        t.render({})


def test_every_template_function_has_a_prototype() -> None:
    import os
    import re

    from omni import _lib

    include = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "omni")
    names = set()
    for header in ["template", "channel", "template_store"]:
        with open(os.path.join(include, header + ".h"), encoding="utf-8") as f:
            names |= set(re.findall(r"OMNI_API[^;]*?\b(omni_[a-z0-9_]+)\s*\(", f.read()))
    assert len(names) >= 50
    assert sorted(names - set(_lib.PROTOTYPES)) == []
    for name in names:
        assert getattr(_lib.lib(), name).argtypes is not None
