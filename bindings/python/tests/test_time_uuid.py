"""RFC 3339 timestamps and UUIDs (RFC 9562)."""

import uuid as std_uuid

import pytest

import omni

FIXED = {"clock": {"fixed": "2026-01-01T00:00:00Z"}, "random": {"seed": 1}}
FIXED_MS = 1767225600000


def test_time_parse_rfc3339_examples() -> None:
    # RFC 3339 section 5.8 examples.
    assert omni.time_parse("1985-04-12T23:20:50.52Z") == 482196050520
    assert omni.time_parse("1996-12-19T16:39:57-08:00") == 851042397000
    # Leap second: read as second 59 with fraction .999 (omni/datetime.h).
    assert omni.time_parse("1990-12-31T23:59:60Z") == 662687999999
    assert omni.time_parse("1990-12-31T15:59:60-08:00") == 662687999999
    assert omni.time_parse("1937-01-01T12:00:27.87+00:20") == -1041337172130
    assert omni.time_parse("2026-01-01t00:00:00z") == FIXED_MS
    assert omni.time_parse("1970-01-01T00:00:00.123456789Z") == 123  # truncated


def test_time_format() -> None:
    assert omni.time_format(482196050520) == "1985-04-12T23:20:50.520Z"
    assert omni.time_format(0) == "1970-01-01T00:00:00.000Z"
    assert omni.time_format(FIXED_MS) == "2026-01-01T00:00:00.000Z"
    assert omni.time_parse(omni.time_format(1234567890123)) == 1234567890123


@pytest.mark.parametrize(
    "bad",
    ["", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z",
     "2026-01-01 00:00:00", "2026-01-01T00:00:00+24:00", "yesterday"],
)
def test_time_parse_errors(bad: str) -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.time_parse(bad)
    assert info.value.code == "INVALID_TIMESTAMP"
    assert info.value.retryable is False


def test_time_limits() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.time_parse("2026-01-01T00:00:00." + "1" * 80 + "Z")
    assert info.value.code == "PAYLOAD_TOO_LARGE"
    with pytest.raises(omni.OmniError) as info:
        omni.time_format(253402300800000)  # year 10000
    assert info.value.code == "INVALID_ARGUMENT"


def test_uuid5_rfc9562_vector() -> None:
    # RFC 9562 appendix A.4: DNS namespace, "www.example.com".
    assert omni.uuid5(omni.NAMESPACE_DNS, "www.example.com") == (
        "2ed6657d-e927-568b-95e1-2665a8aea6a2"
    )
    assert omni.uuid5(omni.NAMESPACE_DNS, b"www.example.com") == (
        "2ed6657d-e927-568b-95e1-2665a8aea6a2"
    )
    # Cross-check with Python's uuid module in every well-known namespace.
    for ns, std in [
        (omni.NAMESPACE_URL, std_uuid.NAMESPACE_URL),
        (omni.NAMESPACE_OID, std_uuid.NAMESPACE_OID),
        (omni.NAMESPACE_X500, std_uuid.NAMESPACE_X500),
    ]:
        assert omni.uuid5(ns, "https://example.com/ü") == str(
            std_uuid.uuid5(std, "https://example.com/ü")
        )


def test_uuid5_bad_namespace() -> None:
    with pytest.raises(omni.OmniError) as info:
        omni.uuid5("not-a-uuid", "x")
    assert info.value.code == "INVALID_ARGUMENT"


def test_uuid_parse_and_format() -> None:
    text = "2ed6657d-e927-568b-95e1-2665a8aea6a2"
    raw = omni.uuid_parse(text.upper())
    assert raw == std_uuid.UUID(text).bytes
    assert omni.uuid_parse("urn:uuid:" + text) == raw
    assert omni.uuid_parse("{" + text + "}") == raw
    assert omni.uuid_format(raw) == text
    with pytest.raises(omni.OmniError):
        omni.uuid_parse("2ed6657d-e927-568b-95e1-2665a8aea6a")


def test_uuid7_system() -> None:
    a, b = omni.uuid7(), omni.uuid7()
    for u in (a, b):
        parsed = std_uuid.UUID(u)
        assert parsed.version == 7
        assert parsed.variant == std_uuid.RFC_4122
    assert a != b


def test_uuid7_deterministic_with_engine() -> None:
    with omni.Engine(FIXED) as e1, omni.Engine(FIXED) as e2:
        first = [omni.uuid7(e1) for _ in range(5)]
        second = [omni.uuid7(e2) for _ in range(5)]
        assert first == second  # same clock, same seed: same values
        assert first == sorted(first) and len(set(first)) == 5  # strictly increasing
        for u in first:
            # RFC 9562 section 5.7: the first 48 bits are the Unix milliseconds.
            assert u.replace("-", "")[:12] == format(FIXED_MS, "012x")
            assert std_uuid.UUID(u).version == 7
    with omni.Engine({**FIXED, "random": {"seed": 2}}) as e3:
        assert omni.uuid7(e3) != first[0]
