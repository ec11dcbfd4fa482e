"""Host helpers written in Python: arguments, hash, results, block helpers, errors."""

import threading
from typing import Any, Dict, List

import pytest

import omni


def test_simple_helper_result_is_escaped() -> None:
    t = omni.Template("{{shout name}}|{{{shout name}}}", helpers={"shout": lambda s: s.upper()})
    assert t.render({"name": "tom & jerry"}) == "TOM &amp; JERRY|TOM & JERRY"
    # escape="none": plain text channels
    t = omni.Template("{{shout name}}", helpers={"shout": lambda s: s.upper()}, escape="none")
    assert t.render({"name": "a<b"}) == "A<B"


def test_arguments_are_python_values() -> None:
    seen: List[Any] = []

    def probe(*args: Any, **hash: Any) -> str:
        seen.append((args, hash))
        return "ok"

    t = omni.Template(
        '{{probe name 42 1.5 true null missing "lit" order items}}',
        helpers={"probe": probe},
    )
    assert t.render({"name": "Asha", "order": {"id": 7, "tags": ["a"]}, "items": [1, "x"]}) == "ok"
    args, hash_ = seen[0]
    assert args == ("Asha", 42, 1.5, True, None, None, "lit", {"id": 7, "tags": ["a"]}, [1, "x"])
    assert isinstance(args[1], int) and isinstance(args[2], float)
    assert hash_ == {}


def test_hash_arguments() -> None:
    def money(amount: float, currency: str = "USD", sep: str = " ") -> str:
        return f"{currency}{sep}{amount:.2f}"

    t = omni.Template('{{money total currency="INR"}}|{{money total sep=s currency=c}}|'
                      "{{money 3}}", helpers={"money": money})
    assert t.render({"total": 12.5, "s": "-", "c": "EUR"}) == "INR 12.50|EUR-12.50|USD 3.00"


def test_safe_string_is_not_escaped() -> None:
    def link(url: str, text: str) -> omni.SafeString:
        return omni.SafeString(f'<a href="{url}">{text}</a>')

    class Markup(str):  # markupsafe's protocol: __html__
        def __html__(self) -> str:
            return str(self)

    t = omni.Template("{{link u t}} {{plain u}} {{mk}}",
                      helpers={"link": link, "plain": lambda u: u,
                               "mk": lambda: Markup("<i>m</i>")})
    assert t.render({"u": "https://x.test/?a=1&b=2", "t": "go"}) == (
        '<a href="https://x.test/?a=1&b=2">go</a> https://x.test/?a&#x3D;1&amp;b&#x3D;2 <i>m</i>'
    )
    assert isinstance(omni.SafeString("x"), str)


def test_non_string_results_as_json_values() -> None:
    helpers = {
        "isVip": lambda user: user.get("tier") == "gold",
        "count": lambda items: len(items),
        "half": lambda x: x / 2,
        "nothing": lambda: None,
        "pair": lambda: ["a", "b"],
        "obj": lambda: {"k": "v", "n": 1},
    }
    t = omni.Template(
        "{{#if (isVip user)}}VIP{{else}}regular{{/if}} {{count items}} {{half 5}} "
        "[{{nothing}}] {{pair}} {{lookup (obj) 'k'}} {{#with (obj)}}{{n}}{{/with}} "
        "{{#if (nothing)}}yes{{else}}no{{/if}} {{isVip user}}",
        helpers=helpers,
    )
    data = {"user": {"tier": "gold"}, "items": [1, 2, 3]}
    assert t.render(data) == "VIP 3 2.5 [] a,b v 1 no true"
    data["user"]["tier"] = "silver"
    assert t.render(data).startswith("regular")
    # a host helper overrides a built-in of the same name
    t = omni.Template("{{uppercase x}}", helpers={"uppercase": lambda s: "custom:" + s})
    assert t.render({"x": "a"}) == "custom:a"


def test_block_helpers_fn_and_inverse_with_a_new_context() -> None:
    def bold(options: omni.HelperOptions) -> str:
        return "<b>" + options.fn() + "</b>"

    def each_pair(obj: Dict[str, Any], *, options: omni.HelperOptions) -> str:
        if not obj:
            return options.inverse()
        return "".join(options.fn({"k": k, "v": v}) for k, v in sorted(obj.items()))

    def if_long(text: str, min: int = 3, *, options: omni.HelperOptions) -> str:
        assert options.is_block and options.name == "ifLong"
        assert options.hash == {"min": min}
        return options.fn() if len(text) >= min else options.inverse({"short": text})

    seen: Dict[str, Any] = {}

    def ctx(options: omni.HelperOptions) -> str:
        seen["context"] = options.context
        seen["is_block"] = options.is_block
        return ""

    t = omni.Template(
        "{{#bold}}Hi {{name}}{{/bold}} "
        "{{#eachPair prices}}{{k}}={{v}};{{else}}none{{/eachPair}} "
        "{{#eachPair empty}}{{k}}{{else}}none{{/eachPair}} "
        "{{#ifLong name min=5}}long {{name}}{{else}}short {{short}}{{/ifLong}} "
        "{{#with order}}{{ctx}}{{/with}}",
        helpers={"bold": bold, "eachPair": each_pair, "ifLong": if_long, "ctx": ctx},
    )
    data = {"name": "Asha", "prices": {"tea": 2, "cake": 3.5}, "empty": {}, "order": {"id": 9}}
    assert t.render(data) == "<b>Hi Asha</b> cake=3.5;tea=2; none short Asha "
    assert seen == {"context": {"id": 9}, "is_block": False}
    # block results are not escaped, the body's own {{ }} are
    assert t.render({**data, "name": "<Ravi>"}).startswith("<b>Hi &lt;Ravi&gt;</b>")


def test_fn_on_a_non_block_call_fails_the_render() -> None:
    t = omni.Template("{{bold}}", helpers={"bold": lambda options: options.fn()})
    with pytest.raises(omni.OmniError) as info:
        t.render({})
    assert info.value.code == "HELPER_ERROR"
    assert "not called as a block" in info.value.message


def test_options_after_the_call_are_refused() -> None:
    kept: List[omni.HelperOptions] = []

    def keep(options: omni.HelperOptions) -> str:
        kept.append(options)
        return "x"

    assert omni.Template("{{#keep}}b{{/keep}}", helpers={"keep": keep}).render({}) == "x"
    with pytest.raises(omni.OmniError) as info:
        kept[0].fn()
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(omni.OmniError):
        kept[0].context


def test_a_raising_helper_fails_the_render_with_helper_error() -> None:
    class Boom(ValueError):
        pass

    def bad(x: Any) -> str:
        raise Boom("card number is invalid")

    t = omni.Template("a {{bad x}} b", helpers={"bad": bad})
    with pytest.raises(omni.OmniError) as info:
        t.render({"x": 1})
    err = info.value
    assert err.code == "HELPER_ERROR"
    assert err.status == omni.Status.EHELPER
    assert "card number is invalid" in err.message
    assert "bad" in err.message
    assert isinstance(err.__cause__, Boom)
    # wrong arity is a TypeError inside the call: the same clean failure
    t = omni.Template("{{one a b}}", helpers={"one": lambda x: x})
    with pytest.raises(omni.OmniError) as info:
        t.render({"a": 1, "b": 2})
    assert info.value.code == "HELPER_ERROR" and isinstance(info.value.__cause__, TypeError)
    # an unsupported result type
    t = omni.Template("{{obj}}", helpers={"obj": lambda: object()})
    with pytest.raises(omni.OmniError) as info:
        t.render({})
    assert info.value.code == "HELPER_ERROR" and "must return" in info.value.message
    # the template stays usable
    assert omni.Template("{{ok}}", helpers={"ok": lambda: "fine"}).render({}) == "fine"


def test_exception_without_message_and_keyboard_interrupt() -> None:
    def empty() -> str:
        raise RuntimeError()

    with pytest.raises(omni.OmniError) as info:
        omni.Template("{{e}}", helpers={"e": empty}).render({})
    assert "RuntimeError" in info.value.message

    def interrupt() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        omni.Template("{{i}}", helpers={"i": interrupt}).render({})


def test_body_errors_keep_their_code_and_details() -> None:
    # strict mode inside a block rendered by a host helper: MISSING_VARIABLE wins
    t = omni.Template("{{#wrap}}{{missing}}{{/wrap}}", strict=True,
                      helpers={"wrap": lambda options: "[" + options.fn() + "]"})
    with pytest.raises(omni.OmniError) as info:
        t.render({})
    assert info.value.code == "MISSING_VARIABLE"
    assert info.value.details == {"missing": ["missing"]}

    def swallow(options: omni.HelperOptions) -> str:
        try:
            return options.fn()
        except omni.OmniError:
            return "swallowed"

    t = omni.Template("{{#s}}{{missing}}{{/s}}", strict=True, helpers={"s": swallow})
    with pytest.raises(omni.OmniError) as info:
        t.render({})
    assert info.value.code == "MISSING_VARIABLE"


def test_options_parameter_convention() -> None:
    seen: List[Any] = []

    def kw_only(x: Any, *, options: omni.HelperOptions) -> str:
        seen.append(("kw", options.name))
        return "k"

    def plain(x: Any, options: Any = None) -> str:  # an ordinary parameter named options
        seen.append(("plain", type(options).__name__))
        return "p"

    def var_kw(*args: Any, **kwargs: Any) -> str:  # **kwargs gets the hash only
        seen.append(("var", sorted(kwargs)))
        return "v"

    t = omni.Template("{{a 1}}{{b 1}}{{c 1 z=2}}",
                      helpers={"a": kw_only, "b": plain, "c": var_kw})
    assert t.render({}) == "kpv"
    assert seen == [("kw", "a"), ("plain", "HelperOptions"), ("var", ["z"])]
    # a hash argument named options clashes with the options parameter
    with pytest.raises(omni.OmniError) as info:
        omni.Template("{{a 1 options=2}}", helpers={"a": kw_only}).render({})
    assert "options" in info.value.message
    # builtins without a signature work too
    assert omni.Template("{{up x}}", helpers={"up": str.upper}).render({"x": "q"}) == "Q"


def test_helper_registration_errors() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.Template("x", helpers={"bad name": lambda: 1})
    assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(TypeError):
        omni.Template("x", helpers={"h": "not callable"})  # type: ignore[dict-item]


def test_helpers_render_other_templates() -> None:
    inner = omni.Template("<{{v}}>", helpers={"bad": lambda: 1 / 0})
    failing = omni.Template("{{bad}}", helpers={"bad": lambda: 1 / 0})

    def nest(v: Any) -> str:
        return inner.render({"v": v})

    def nest_fail() -> str:
        return failing.render({})

    outer = omni.Template("{{nest x}}|{{nest y}}", helpers={"nest": nest}, escape="none")
    assert outer.render({"x": 1, "y": "two"}) == "<1>|<two>"
    with pytest.raises(omni.OmniError) as info:
        omni.Template("{{nf}}", helpers={"nf": nest_fail}).render({})
    assert info.value.code == "HELPER_ERROR"
    assert isinstance(info.value.__cause__, omni.OmniError)
    assert isinstance(info.value.__cause__.__cause__, ZeroDivisionError)


def test_helpers_called_from_many_threads_keep_their_errors_apart() -> None:
    def maybe_fail(n: int) -> str:
        if n % 2:
            raise ValueError(f"odd {n}")
        return f"even {n}"

    t = omni.Template("{{f n}}", helpers={"f": maybe_fail})
    problems: List[str] = []

    def worker(base: int) -> None:
        for i in range(100):
            n = base * 1000 + i
            try:
                out = t.render({"n": n})
                if out != f"even {n}":
                    problems.append(out)
            except omni.OmniError as exc:
                if n % 2 == 0 or f"odd {n}" not in exc.message or \
                        str(exc.__cause__) != f"odd {n}":
                    problems.append(exc.message)

    threads = [threading.Thread(target=worker, args=(b,)) for b in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert problems == []


def test_runaway_nested_renders_stop_cleanly() -> None:
    import sys

    def again() -> str:
        return t.render({})

    t = omni.Template("{{again}}", helpers={"again": again})
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))  # the binding's own limit must stop it
    try:
        with pytest.raises(omni.OmniError) as info:
            t.render({})
    finally:
        sys.setrecursionlimit(limit)
    err: BaseException = info.value
    depth = 0
    while err.__cause__ is not None:
        err = err.__cause__
        depth += 1
    assert isinstance(err, omni.OmniError) and err.code == "NESTING_TOO_DEEP"
    assert depth == omni.MAX_NESTED_RENDERS
    assert info.value.code == "HELPER_ERROR"
