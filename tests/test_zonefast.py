"""The zone reader's fast lane gives what the full parser gives, or steps aside (None)."""

from __future__ import annotations

import pytest

from craft.dns.names import Name
from craft.dns.zonefast import fast_head
from craft.dns.zonefile import _Names, _rdata, _record_head, logical_lines, parse_zone

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
