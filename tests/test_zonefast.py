"""The zone reader's fast lane gives what the full parser gives, or steps aside (None)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from craft.dns import zonefile
from craft.dns.names import Name
from craft.dns.zone import ZoneError
from craft.dns.zonefast import SIMPLE_LINE, fast_head
from craft.dns.zonefile import (
    Line,
    _Names,
    _rdata,
    _Reader,
    _record_head,
    logical_lines,
    parse_zone,
)

ORIGIN = Name.from_text("example.test.")

TAKEN = [
    "IN A 192.0.2.1", "A 0.0.0.0", "300 IN A 255.255.255.255", "in 300 a 10.1.2.3",
    "NS ns1", "IN NS ns1.example.test.", "CNAME www.other.", "3600 PTR host",
    'TXT "v=spf1 -all"', 'IN TXT "two" "strings"', "TXT plain words", 'TXT ""',
    "MX 10 mail", "IN MX 0 .",
]
DECLINED = [
    "IN A 192.0.2.01", "A 256.0.0.1", "A 1.2.3", "A 1.2.3.4 5", "1h A 192.0.2.1",
    "IN IN A 192.0.2.1", "300 300 A 192.0.2.1", 'TXT "a\\"b"', "TXT " + "x" * 256,
    "NS @", 'NS "quoted"', "NS a\\.b", "MX 70000 mail", "MX mail", "AAAA ::1",
    "SOA a b 1 2 3 4 5", "TYPE1 \\# 4 c0000201", "A", "IN", "CLASS1 A 192.0.2.1",
    "2147483648 A 192.0.2.1",
]


def tokens(text: str) -> list[str]:
    (line,) = logical_lines(text)
    return line.tokens


@pytest.mark.parametrize("text", TAKEN)
def test_the_fast_lane_reads_as_the_full_parser(text: str) -> None:
    names = _Names(ORIGIN)
    fast = fast_head(tokens(text), names)
    assert fast is not None
    ttl, rclass, rtype, start = _record_head(tokens(text), allow_meta=False)
    assert fast == (ttl, rclass, rtype, _rdata(rtype, tokens(text)[start:], names))


@pytest.mark.parametrize("text", DECLINED)
def test_the_fast_lane_steps_aside_for_anything_unusual(text: str) -> None:
    assert fast_head(tokens(text), _Names(ORIGIN)) is None


def test_a_zone_read_through_the_fast_lane_keeps_its_errors_and_lines() -> None:
    text = "$ORIGIN example.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nbad A 192.0.2.01\n"
    with pytest.raises(ValueError, match=r"<zone>:6: address: bad IPv4 address"):
        parse_zone(text)
    zone = parse_zone(text.replace("192.0.2.01", "192.0.2.2"))
    assert [r.to_text() for r in zone.records][-1] == "bad.example.test. 60 IN A 192.0.2.2"


# Whole lines the one-match lane takes, and lines it leaves to the tokenizer.
SIMPLE_TAKEN = [
    "host1 IN A 10.0.0.1", "h 300 A 1.2.3.4\r", 'Mixed-Case_9 300 IN TXT "a b;(" "c"  ',
    't TXT ""', "x\t0\tIN\tA\t255.255.255.255",
]
SIMPLE_DECLINED = [
    "x IN A 01.2.3.4", "  x A 1.2.3.4", "x A 1.2.3.4 ; comment", 'x TXT "a\\"b"', "x TXT plain",
    "a.b A 1.2.3.4", "@ A 1.2.3.4", "x in A 1.2.3.4", "x IN 300 A 1.2.3.4", "x AAAA ::1",
    "*.w A 1.2.3.4", 'x TXT "caf\u00e9"', "x IN MX 10 mail",
]


@pytest.mark.parametrize("line", SIMPLE_TAKEN)
def test_a_simple_line_reads_as_the_tokenizer_and_full_parser_read_it(line: str) -> None:
    match = SIMPLE_LINE.fullmatch(line)
    assert match is not None
    fast, full = _Reader(ORIGIN, 60), _Reader(ORIGIN, 60)
    fast.simple(1, match)
    full.entry(Line(1, False, tokens(line)))
    assert fast.records == full.records
    assert fast.records[0].name.labels == full.records[0].name.labels  # case kept
    assert fast.keys == [r.name.key for r in full.records]


@pytest.mark.parametrize("line", SIMPLE_DECLINED)
def test_the_simple_line_lane_steps_aside(line: str) -> None:
    assert SIMPLE_LINE.fullmatch(line) is None


@pytest.mark.parametrize(("line", "reason"), [
    ("x 2147483648 A 192.0.2.1", "over the maximum"),
    ('x TXT "' + "y" * 256 + '"', "255"),
    ("y" * 63 + " A 192.0.2.1", "octets (max 255)"),
])
def test_what_the_simple_lane_cannot_take_gets_the_full_parsers_error(line: str, reason: str) -> None:
    origin = ".".join(["o" * 60] * 4)  # 245 octets: a 63-octet label more is too long
    text = f"$ORIGIN {origin}.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n{line}\n"
    with pytest.raises(ZoneError, match=rf"<zone>:5: .*{re.escape(reason)}"):
        parse_zone(text)


def test_simple_lines_before_any_origin_are_relative_to_nothing() -> None:
    with pytest.raises(ZoneError, match=r"<zone>:1: relative name 'host' with no \$ORIGIN"):
        parse_zone("host 60 A 192.0.2.1\n")


def test_owner_keys_follow_the_records_kept() -> None:
    text = ("$ORIGIN Example.TEST.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nHost A 192.0.2.1\n"
            "host 30 A 192.0.2.2\nhost A 192.0.2.1\nns A 192.0.2.9\n")
    zone = parse_zone(text)
    assert [r.to_text() for r in zone.records][2:4] == [
        "Host.Example.TEST. 60 IN A 192.0.2.1", "host.Example.TEST. 60 IN A 192.0.2.2"]
    assert len(zone.records) == 5
    assert zone.owner_keys == tuple(r.name.key for r in zone.records)


@pytest.mark.parametrize("text", ["", "a", "a\n", "abc\ndef\n\nghijklmnop\nq", "\n\n\n",
                                  "x" * 20 + "\n" + "y" * 3, "\r\n" * 7])
def test_lines_split_a_piece_at_a_time_are_the_lines_split_at_once(
        text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zonefile, "_CHUNK", 5)
    assert list(zonefile._physical_lines(text)) == text.split("\n")


MIXED_ZONE = (
    "$ORIGIN Example.TEST.\n@ 60 SOA ns h 1 2 3 4 5\n@ NS ns\nHost A 192.0.2.1\n"
    "h2 30 IN A 192.0.2.2\nh3 A 192.0.2.3\n; a comment between runs\n"
    't1 TXT "a" "b"\nt2 700 TXT ""\n  A 192.0.2.4\nh4 IN A 192.0.2.5\n$TTL 5\nh5 A 192.0.2.6\n'
    "$ORIGIN sub.example.test.\nx A 192.0.2.7\ny 9 TXT \"z\"\nHOST A 192.0.2.1\n"
)


@pytest.mark.parametrize("run", [1, 2, 3, 4096])
def test_runs_of_simple_lines_read_as_one_line_at_a_time(run: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    reader = _Reader(None, None)
    for line in logical_lines(MIXED_ZONE):
        reader.entry(line)
    monkeypatch.setattr(zonefile, "RUN", run)
    zone = parse_zone(MIXED_ZONE)
    assert zone.records == tuple(reader.records)
    assert [r.name.labels for r in zone.records] == [r.name.labels for r in reader.records]
    assert zone.owner_keys == tuple(reader.keys)


@pytest.mark.parametrize(("line", "reason"), [
    ("h9 2147483648 A 192.0.2.9", "over the maximum"), ('h9 TXT "' + "y" * 256 + '"', "255"),
])
def test_a_fault_inside_a_run_names_its_own_line(line: str, reason: str) -> None:
    text = "$ORIGIN e.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nh1 A 192.0.2.1\n" \
           f"h2 A 192.0.2.2\n{line}\nh3 A 192.0.2.3\n"
    with pytest.raises(ZoneError, match=rf"<zone>:7: .*{re.escape(reason)}"):
        parse_zone(text)


def test_a_run_with_no_ttl_to_take_says_so_at_its_line() -> None:
    with pytest.raises(ZoneError, match=r"<zone>:3: no TTL"):
        parse_zone("$ORIGIN e.test.\n\nh1 A 192.0.2.1\n@ SOA ns h 1 2 3 4 5\n")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab1 \t();\r", max_size=24), st.integers(0, 1))
def test_parentheses_counted_without_the_tokenizer_are_the_tokenizers(line: str,
                                                                      depth: int) -> None:
    tokens: list[str] = []
    try:
        expected: tuple[list[str], int] | str = (tokens, zonefile._scan(line, tokens, depth, "f:1"))
    except ZoneError as exc:
        expected = exc.reason
    cut = line.split(";", 1)[0]
    try:
        got: tuple[list[str], int] | str = (
            cut.replace("(", " ").replace(")", " ").split(), zonefile._parens(cut, depth, "f:1"))
    except ZoneError as exc:
        got = exc.reason
    assert got == expected
