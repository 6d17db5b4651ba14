"""craft grade's pure parts, table-driven and in memory: the DNS answer judgements on the
lab's own bytes and on each fault, the client's query and line judgements, the web
server's response judgements, the printed-hex reader, rubric files and the reports."""

from __future__ import annotations

import email.utils
import json
from typing import Any

import pytest

from craft.grade import dns_client, dns_server, web_server
from craft.grade.dns_wire import hex_text, printed_messages, walk
from craft.grade.report import Grade, as_json, gradescope, terminal
from craft.grade.rubric import Check, Entry, Rubric, RubricError, parse_rubric, score

GOOGLE = Entry("google.com", 260, ("192.165.1.1", "192.165.1.10"))
# The lab manual's example exchange for google.com, byte for byte.
QUERY = bytes.fromhex("1a2b04000001000000000000" "06676f6f676c6503636f6d00" "00010001")
REPLY = bytes.fromhex(
    "1a2b84000001000200000000" "06676f6f676c6503636f6d00" "00010001"
    "c00c000100010000010400" "04c0a50101" "c00c000100010000010400" "04c0a5010a"
)
KNOWN = {dns_server.COMMAND: dns_server.ROWS, dns_client.COMMAND: dns_client.ROWS,
         web_server.COMMAND: web_server.ROWS}


def failing(checks: list[Check]) -> set[str]:
    return {c.key for c in checks if not c.passed}


def patched(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new):]


@pytest.mark.parametrize(
    ("reply", "fails"),
    [
        (REPLY, set()),
        (patched(REPLY, 0, b"\x00\x00"), {"id"}),
        (patched(REPLY, 2, b"\x80\x00"), {"flags"}),  # AA missing
        (patched(REPLY, 2, b"\x84\x03"), {"flags"}),  # NXDOMAIN with answers
        (patched(REPLY, 12, b"\x06G"), {"question"}),  # the question's case changed
        (patched(REPLY, 34, b"\x00\x00\x01\x2c"), {"ttl"}),  # TTL 300 in the first answer
        (patched(REPLY, 32, b"\x00\x03"), {"type-class"}),  # class CH
        (patched(REPLY, 40, b"\x0a"), {"rdata"}),  # 10.165.1.1
        (REPLY[:44].replace(b"\x00\x02", b"\x00\x01", 1), {"all-records"}),  # one record
        (REPLY[:44] + REPLY[28:44], {"all-records"}),  # the first record twice
        (REPLY[:12] + REPLY[28:], {"binary", "counts", "question", "compression", "type-class",
                                   "ttl", "rdata", "all-records"}),  # the issue's: no question
        (REPLY.hex(" ").encode(), set(dns_server.ANSWER_KEYS)),  # hex text
        (None, set(dns_server.ANSWER_KEYS)),
    ],
    ids=["lab", "id", "no-aa", "rcode", "case", "ttl", "class", "address", "one-record",
         "twice", "no-question", "hex-text", "silence"],
)
def test_judge_answer_fails_exactly_the_fault(reply: bytes | None, fails: set[str]) -> None:
    assert failing(dns_server.judge_answer(GOOGLE, QUERY, reply)) == fails


def test_uncompressed_answers_fail_only_compression() -> None:
    name = QUERY[12:24]
    plain = REPLY[:28] + name + REPLY[30:44] + name + REPLY[46:]
    assert failing(dns_server.judge_answer(GOOGLE, QUERY, plain)) == {"compression"}


def test_failed_checks_carry_the_reply_and_say_expected_and_got() -> None:
    checks = dns_server.judge_answer(GOOGLE, QUERY, patched(REPLY, 34, b"\x00\x00\x01\x2c"))
    ttl = next(c for c in checks if c.key == "ttl")
    assert ttl.detail == "google.com: expected TTL 260, got 300, 260"
    assert ttl.wire is not None and ttl.wire[34:38] == b"\x00\x00\x01\x2c"
    binary = next(c for c in dns_server.judge_answer(GOOGLE, QUERY, REPLY.hex().encode())
                  if c.key == "binary")
    assert binary.detail == ("google.com: the reply is 120 octets of hex text, not DNS octets "
                             "(send the 60 octets it spells, not their text)")


def test_outside_and_printed_hex() -> None:
    nx = patched(QUERY, 2, b"\x84\x03")
    assert dns_server.judge_outside(QUERY, nx).passed
    assert not dns_server.judge_outside(QUERY, None).passed
    assert not dns_server.judge_outside(QUERY, REPLY).passed  # addresses for a stranger
    printed = f"Request:\n{QUERY.hex(' ')}\nResponse:\n{REPLY.hex(' ')}\n"
    assert dns_server.judge_printed([(QUERY, REPLY)], printed).passed
    wrong = printed.replace("c0 a5 01 0a", "c0 a5 01 0b")
    check = dns_server.judge_printed([(QUERY, REPLY)], wrong)
    assert not check.passed and "not among the 1 printed after Response:" in check.detail


def test_pair_replies_by_id_then_question() -> None:
    fixed = patched(REPLY, 0, b"\xff\xff")
    assert dns_server.pair_replies([QUERY], [fixed]) == [fixed]
    assert dns_server.pair_replies([QUERY], []) == [None]


def test_printed_messages_reads_the_lab_layout() -> None:
    text = ("ready\nRequest:\n1a 2b 04 00 00 01 00 00 00 00 00 00 06 67 6f 6f\n"
            "67 6c 65 03 63 6f 6d 00 00 01 00 01\nResponse: 1a2b\nbye\n")
    requests, responses = printed_messages(text)
    assert requests == [QUERY]
    assert responses == [b"\x1a\x2b"]


def test_hex_text_and_walk() -> None:
    assert hex_text(REPLY.hex(" ").encode()) == REPLY
    assert hex_text(REPLY) is None
    layout = walk(REPLY)
    assert [r.ttl for r in layout.answers] == [260, 260] and not layout.error
    assert walk(REPLY[:40]).error.startswith("the message ends early")


# ---- the client ----


def test_judge_query_and_ids() -> None:
    assert failing(dns_client.judge_query("google.com", QUERY)) == set()
    assert failing(dns_client.judge_query("google.ca", QUERY)) == {"qname"}
    assert failing(dns_client.judge_query("google.com", patched(QUERY, 2, b"\x84\x00"))) == {"flags"}
    assert failing(dns_client.judge_query("google.com", patched(QUERY, 10, b"\x00\x01"))) == {
        "counts", "qname", "qtype"}  # an additional record that is not there: undecodable
    assert failing(dns_client.judge_query("google.com", patched(QUERY, 24, b"\x00\x1c"))) == {"qtype"}
    assert not dns_client.judge_ids([QUERY, QUERY]).passed
    assert dns_client.judge_ids([QUERY, patched(QUERY, 0, b"\x00\x01")]).passed


@pytest.mark.parametrize(
    ("segment", "passed"),
    [
        (" google.com: type A, class IN, TTL 260, addr (4) 192.165.1.1\n"
         "google.com: type A, class IN, TTL 260, addr (4) 192.165.1.10\n", True),
        (" google.com: type A, class IN, TTL 260, addr (4) 192.165.1.1\n", False),
        (" google.com: type A, class IN, TTL 260, addr 192.165.1.1\n"
         "google.com: type A, class IN, TTL 260, addr 192.165.1.10\n", False),
        (" Response: 1a 2b\ngoogle.com: type A, class IN, TTL 260, addr (4) 192.165.1.1\n"
         "google.com: type A, class IN, TTL 260, addr (4) 192.165.1.10\n", True),
    ],
)
def test_judge_lines(segment: str, passed: bool) -> None:
    assert dns_client.judge_lines("lines", GOOGLE, "google.com", segment).passed is passed


# ---- the web server ----

MTIME = 1_700_000_000.0
NOW = 1_700_000_100.0
PAGE = b"<html>hello</html>\n"


def http(headers: dict[str, str], body: bytes = PAGE, status: str = "200 OK", eol: str = "\r\n") -> bytes:
    head = f"HTTP/1.1 {status}{eol}" + "".join(f"{k}: {v}{eol}" for k, v in headers.items())
    return (head + eol).encode() + body


GOOD = {
    "Connection": "close", "Date": email.utils.formatdate(NOW, usegmt=True), "Server": "x",
    "Last-Modified": email.utils.formatdate(MTIME, usegmt=True),
    "Content-Length": str(len(PAGE)), "Content-Type": "text/html",
}


@pytest.mark.parametrize(
    ("raw", "fails"),
    [
        (http(GOOD), set()),
        (http({k: v for k, v in GOOD.items() if k != "Date"}), {"headers", "date"}),
        (http({**GOOD, "Content-Length": "5"}), {"content-length", "get"}),
        (http(GOOD, PAGE + b"\r\n"), {"content-length"}),
        (http({**GOOD, "Date": email.utils.formatdate(NOW + 5 * 3600, usegmt=True)}), {"date"}),
        (http({**GOOD, "Last-Modified": email.utils.formatdate(MTIME - 60, usegmt=True)}),
         {"last-modified"}),
        (http({**GOOD, "Content-Type": "text/plain"}), {"content-type"}),
        (http(GOOD, eol="\n"), {"crlf"}),
        (b"", {"get", "headers", "content-length", "date", "last-modified", "content-type", "crlf"}),
    ],
    ids=["good", "no-date", "short-length", "long-body", "local-time", "mtime", "type", "lf",
         "closed"],
)
def test_judge_get(raw: bytes, fails: set[str]) -> None:
    response = web_server.parse_response(raw)
    assert failing(web_server.judge_get("HelloWorld.html", PAGE, MTIME, response, NOW)) == fails


def test_judge_head_and_not_found() -> None:
    get = web_server.parse_response(http(GOOD))
    assert web_server.judge_head(get, web_server.parse_response(http(GOOD, b""))).passed
    assert not web_server.judge_head(get, web_server.parse_response(http(GOOD))).passed
    zero = web_server.parse_response(http({**GOOD, "Content-Length": "0"}, b""))
    assert "differs from GET in Content-Length" in web_server.judge_head(get, zero).detail
    assert web_server.judge_not_found(web_server.parse_response(http(GOOD, b"no", "404 Not Found"))).passed
    assert not web_server.judge_not_found(web_server.parse_response(http(GOOD, b"", "404 Not Found"))).passed
    assert "raw response:\nHTTP/1.1 404 Not Found\\r\\n" in web_server.judge_not_found(
        web_server.parse_response(http(GOOD, b"", "404 Not Found"))).detail


# ---- rubric files and reports ----


def test_parse_rubric_changes_points_table_and_ports() -> None:
    rubric = parse_rubric({
        "port_range": [20000, 20100],
        "points": {"dns-server": {"ttl": 5, "two-clients": 0}},
        "table": [{"name": "example.ca.", "ttl": 60, "addresses": ["10.0.0.1"]}],
    }, "r.toml", KNOWN)
    assert rubric.port_range == (20000, 20100)
    assert rubric.table == (Entry("example.ca", 60, ("10.0.0.1",)),)
    rows = rubric.rows("dns-server", dns_server.ROWS, [
        Check("ttl", True), Check("two-clients", False), Check("id", False)])
    assert [(r.key, r.points, r.max_points, r.required) for r in rows] == [
        ("id", 0.0, 2.0, True), ("ttl", 5.0, 5.0, True), ("two-clients", 0.0, 0.0, False)]
    assert score(rows) == (5.0, 7.0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pointz": {}}, "unknown key 'pointz'"),
        ({"points": {"dns-server": {"tll": 1}}}, "points.dns-server.tll: no such row"),
        ({"points": {"dns-sever": {}}}, "points.dns-sever: not one of"),
        ({"points": {"web-server": {"get": -1}}}, "not a number of points"),
        ({"port_range": [11000, 10000]}, "port_range must be [low, high]"),
        ({"table": [{"name": "a.b", "ttl": 1, "addresses": ["1.2.3"]}]}, "is not an IPv4 address"),
        ({"table": []}, "non-empty list"),
    ],
)
def test_parse_rubric_refuses_mistakes(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RubricError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_rubric(data, "r.toml", KNOWN)


def test_reports() -> None:
    rubric = Rubric()
    checks = dns_server.judge_answer(GOOGLE, QUERY, patched(REPLY, 34, b"\x00\x00\x01\x2c"))
    rows = rubric.rows("dns-server", dns_server.ROWS, checks)
    grade = Grade("dns-server", "127.0.0.1:10053 (running)", "not used", tuple(rows))
    data = as_json(grade)
    assert (data["score"], data["max_score"]) == (16.0, 18.0)
    row = next(r for r in data["rows"] if r["key"] == "ttl")  # type: ignore[attr-defined]
    assert row["passed"] is False and row["points"] == 0 and row["max_points"] == 2
    assert "expected TTL 260, got 300, 260" in row["detail"]
    assert "00 00 01 2c" in row["detail"] and "scapy: Scapy agrees" in row["detail"]
    scope = gradescope(grade)
    assert scope["score"] == 16.0
    tests = scope["tests"]
    assert isinstance(tests, list) and len(tests) == len(rows)
    assert {t["status"] for t in tests} == {"passed", "failed"}
    assert set(tests[0]) == {"name", "score", "max_score", "status", "output"}
    json.dumps(scope)
    text = terminal(grade, color=False)
    assert "FAIL    0/2   TTL as in the table" in text
    # the wrong TTL's octets (34-37: the third dump line, columns 2-5) are pointed at
    assert "      00 01 00 00 01 2c 00 04 c0 a5 01 01 c0 0c 00 01\n      " + " " * 6 + \
        "^^ ^^ ^^ ^^ wrong\n" in text
    assert text.endswith("score 16/18")


@pytest.mark.parametrize(
    ("reply", "key", "mark"),
    [
        (patched(REPLY, 0, b"\x00\x00"), "id", (0, 2)),
        (patched(REPLY, 34, b"\x00\x00\x01\x2c"), "ttl", (34, 38)),
        (patched(REPLY, 32, b"\x00\x03"), "type-class", (30, 34)),
        (patched(REPLY, 56, b"\x0b"), "rdata", (54, 60)),  # the second answer's address
        (patched(REPLY, 44, b"\xc0\x0d"), "compression", (44, 46)),
    ],
)
def test_failed_checks_point_at_the_wrong_octets(reply: bytes, key: str, mark: tuple[int, int]) -> None:
    check = next(c for c in dns_server.judge_answer(GOOGLE, QUERY, reply) if c.key == key)
    assert (check.passed, check.mark) == (False, mark)
