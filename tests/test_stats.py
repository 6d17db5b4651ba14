"""``craft verify --stats``, ``--log`` and ``--html`` (the page's file; the browser test is
test_report_browser.py): pairing rules table-driven in memory, the figures against
tshark's ``-z dns,tree`` on the same files, the JSON schema, Zeek's dns.log fields."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from craft.capture.exchanges import Durations, Pairing, TopNames, glance
from craft.capture.reader import DnsItem
from craft.capture.writer import CaptureWriter
from craft.dns.codec import encode
from craft.dns.constants import RRType
from craft.dns.message import Edns, Message
from craft.dns.names import Name
from craft.dns.zonefile import parse_record
from craft.dns_client import build_query

REPO = Path(__file__).resolve().parent.parent
SESSION = REPO / "pcaps" / "session.pcap"
SERVER = ("10.0.0.53", 53)
T0 = 1_700_000_000.0

Sent = tuple[float, str, tuple[str, int], tuple[str, int], bytes]


def query(name: str, ident: int, rtype: int = RRType.A) -> Message:
    return build_query(Name.from_text(name), rtype, ident=ident, rd=True)


def answer(asked: Message, rcode: int = 0, records: tuple[str, ...] = (),
           tc: bool = False) -> Message:
    header = replace(asked.header, qr=True, ra=True, rcode=rcode, tc=tc)
    return replace(asked, header=header, answer=tuple(parse_record(r) for r in records))


def scenario() -> list[Sent]:
    """Each case the pairing tells apart, client 10.0.0.1 and server 10.0.0.53:53."""
    out: list[Sent] = []

    def udp(port: int, message: Message, when: float, back: bool = False) -> None:
        client = ("10.0.0.1", port)
        src, dst = (SERVER, client) if back else (client, SERVER)
        out.append((T0 + when, "udp", src, dst, encode(message)))

    a = query("google.com.", 1)
    udp(40001, a, 0)
    udp(40001, answer(a, records=("google.com. 300 IN A 192.0.2.1",)), 0.010, True)
    b = query("nope.test.", 2)  # NXDOMAIN
    udp(40002, b, 1)
    udp(40002, answer(b, 3), 1.020, True)
    c = query("slow.test.", 3)  # retransmitted: the same message twice, one answer
    udp(40003, c, 2)
    udp(40003, c, 3)
    udp(40003, answer(c, records=("slow.test. 60 IN A 192.0.2.3",)), 3.005, True)
    d = query("lost.test.", 4)  # unanswered, then asked again under a new ID and port
    udp(40004, d, 4)
    e = query("lost.test.", 5)
    udp(40005, e, 5)
    udp(40005, answer(e, records=("lost.test. 60 IN A 192.0.2.5",)), 5.030, True)
    f = query("big.test.", 6, RRType.TXT)  # TC over UDP, then asked over TCP
    udp(40006, f, 6)
    udp(40006, answer(f, tc=True), 6.002, True)
    g = query("big.test.", 7, RRType.TXT)
    client = ("10.0.0.1", 40007)
    out.append((T0 + 6.1, "tcp", client, SERVER, encode(g)))
    big = answer(g, records=('big.test. 60 IN TXT "' + "x" * 200 + '"',))
    out.append((T0 + 6.12, "tcp", SERVER, client, encode(big)))
    h = query("gone.test.", 8, RRType.AAAA)  # unanswered
    udp(40008, h, 7)
    i = query("ghost.test.", 9)  # a response nobody asked for
    udp(40009, answer(i, records=("ghost.test. 60 IN A 192.0.2.9",)), 8, True)
    j = query("broken.test.", 10)  # SERVFAIL
    udp(40010, j, 9)
    udp(40010, answer(j, 2), 9.2, True)
    return out


def write_scenario(path: Path) -> None:
    writer = CaptureWriter(str(path))
    open_tcp: set[tuple[tuple[str, int], tuple[str, int]]] = set()
    for when, transport, src, dst, data in scenario():
        if transport == "udp":
            writer.udp(src, dst, data, when)
        else:
            writer.tcp_data(src, dst, data, when)
            open_tcp.add((src, dst) if src != SERVER else (dst, src))
    for client, server in open_tcp:
        writer.tcp_close(client, server, T0 + 10)
    writer.close()


def pair(sent: list[Sent]) -> Pairing:
    pairing, counting = Pairing(), Pairing(exchanges=False)
    exchanges = []
    for number, (when, transport, src, dst, data) in enumerate(sent, 1):
        item = DnsItem(number, when, transport, src, dst, data)
        exchanges.extend(pairing.add(item))
        assert counting.add(item) == []
    exchanges.extend(pairing.finish())
    assert counting.finish() == []
    assert counting.stats.as_dict() == pairing.stats.as_dict()  # the same figures either way
    # Every exchange is one answered or unanswered query or one unsolicited response.
    stats = pairing.stats
    assert len(exchanges) == stats.exchanges + stats.unanswered + stats.unsolicited + (
        stats.duplicate_responses)
    return pairing


@pytest.mark.parametrize(("figure", "expected"), [
    ("messages", 18), ("queries", 10), ("responses", 8), ("exchanges", 7), ("unanswered", 2),
    ("unsolicited", 1), ("duplicate_responses", 0), ("retransmissions", 1), ("duplicates", 1),
    ("tc_answers", 1), ("tc_retried_over_tcp", 1), ("unreadable", 0),
    ("rcodes", {"NOERROR": 6, "NXDOMAIN": 1, "SERVFAIL": 1}),
    ("qtypes", {"A": 7, "TXT": 2, "AAAA": 1}), ("opcodes", {"QUERY": 10}),
    ("edns", {"none": 10}),
])
def test_pairing_tells_each_case_apart(figure: str, expected: object) -> None:
    assert pair(scenario()).stats.as_dict()[figure] == expected


def test_response_times_per_exchange_and_server() -> None:
    stats = pair(scenario()).stats.as_dict()
    # 10, 20, 1005 (the retransmitted query, from its first copy), 30, 2, 20 and 200 ms.
    assert stats["response_time_ms"] == {"min": 2.0, "median": 20.0, "p95": 1005.0,
                                         "p99": 1005.0, "max": 1005.0, "mean": 183.857}
    servers = stats["servers"]
    assert isinstance(servers, dict)
    assert list(servers) == ["10.0.0.53:53"]
    assert servers["10.0.0.53:53"]["exchanges"] == 7
    assert servers["10.0.0.53:53"]["unanswered"] == 2


def test_the_same_question_to_another_server_is_no_duplicate() -> None:
    sent = scenario()[:1]
    when, transport, src, _, data = sent[0]
    sent.append((when + 0.5, transport, (src[0], src[1] + 1), ("10.0.0.54", 53), data))
    stats = pair(sent).stats
    assert (stats.duplicates, stats.retransmissions, stats.unanswered) == (0, 0, 2)


def test_a_late_response_still_pairs_and_a_very_late_one_does_not() -> None:
    a = query("google.com.", 1)
    client = ("10.0.0.1", 40001)
    for delay, exchanges in ((29.0, 1), (31.0, 0)):
        sent: list[Sent] = [(T0, "udp", client, SERVER, encode(a)),
                            (T0 + delay, "udp", SERVER, client, encode(answer(a)))]
        stats = pair(sent).stats
        assert stats.exchanges == exchanges
        assert stats.unsolicited == 1 - exchanges


def test_a_response_without_question_pairs_on_the_id() -> None:
    a = query("google.com.", 77)
    formerr = Message(replace(a.header, qr=True, rcode=1))
    client = ("10.0.0.1", 40001)
    stats = pair([(T0, "udp", client, SERVER, encode(a)),
                  (T0 + 0.001, "udp", SERVER, client, encode(formerr))]).stats
    assert (stats.exchanges, stats.unsolicited, stats.as_dict()["rcodes"]) == (1, 0, {"FORMERR": 1})


@pytest.mark.parametrize(("message", "expected"), [
    (query("Google.COM.", 5), (5, "Google.COM.", b"\x06google\x03com\x00", 1, None, False, 0)),
    (query("x.test.", 6).with_edns(Edns(payload=1232, do=True)),
     (6, "x.test.", b"\x01x\x04test\x00", 1, 0, True, 0)),
    (answer(query("x.test.", 7)).with_edns(Edns(ext_rcode=1)),  # BADVERS: 16 = 1 << 4
     (7, "x.test.", b"\x01x\x04test\x00", 1, 0, False, 16)),
])
def test_glance_reads_what_pairing_needs(message: Message, expected: tuple[object, ...]) -> None:
    seen = glance(encode(message))
    assert seen is not None
    assert (seen.ident, seen.qname, seen.qkey, seen.qtype, seen.edns, seen.do,
            seen.rcode) == expected


@pytest.mark.parametrize("data", [b"", b"\x00" * 11, bytes.fromhex("0001000000010000000000000377"),
                                  bytes.fromhex("000100000001000000000000c00c00010001")])
def test_glance_gives_up_on_what_it_cannot_read(data: bytes) -> None:
    assert glance(data) is None


def test_percentiles_exact_then_within_half_a_percent() -> None:
    small = Durations()
    for ms in (5, 1, 3, 2, 4):
        small.add(ms / 1000)
    assert small.as_dict() == {"min": 1.0, "median": 3.0, "p95": 5.0, "p99": 5.0, "max": 5.0,
                               "mean": 3.0}
    big = Durations()
    values = [(i % 997 + 1) / 1e4 for i in range(20_000)]  # beyond the exact samples
    for value in values:
        big.add(value)
    assert big.samples is None
    ordered = sorted(values)
    for fraction in (0.5, 0.95, 0.99):
        true = ordered[max(1, int(fraction * len(values) + 0.999999)) - 1]
        assert abs(big.percentile(fraction) - true) <= true * 0.005
    assert len(big.buckets) < 800  # flat: buckets, not samples


def test_top_names_are_exact_below_capacity_and_bounded_above() -> None:
    top = TopNames(capacity=3)
    for name in ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]:
        top.add(name)
    assert top.top(4) == [("a", 5), ("b", 3), ("c", 2), ("d", 1)]  # exact so far
    for name in ["e", "f", "a", "g", "h"]:
        top.add(name)
        assert len(top.counts) < 6
    assert top.top(2) == [("a", 6), ("b", 3)]


# ---- tshark ----

def tshark_tree(path: Path, display_filter: str, decode_as: list[str]) -> dict[str, list[str]]:
    """Each row of ``-z dns,tree`` as its label and its columns."""
    assert shutil.which("tshark"), "tshark is installed by make test"
    args = ["tshark", "-r", str(path), "-q", "-z", f"dns,tree,{display_filter}"]
    for spec in decode_as:
        args += ["-d", spec]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():
        match = re.match(r"^\s*(\S.*?)\s{2,}(\d.*)$", line)
        if match:
            rows.setdefault(match.group(1), match.group(2).split())
    return rows


TSHARK_RCODES = {"No error": "NOERROR", "No such name": "NXDOMAIN", "Server failure": "SERVFAIL",
                 "Refused": "REFUSED", "Format error": "FORMERR", "Not implemented": "NOTIMP"}


def stats_json(path: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "craft", "verify", str(path), "--stats", "--json"],
                          capture_output=True, text=True, timeout=120, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)["stats"]
    assert isinstance(stats, dict)
    return stats


@pytest.mark.parametrize("which", ["session", "generated"])
def test_counts_agree_with_tshark(which: str, tmp_path: Path) -> None:
    if which == "session":
        path, decode_as = SESSION, []
        port = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "udp.dstport",
                               "-c", "1"], capture_output=True, text=True, timeout=60,
                              check=True).stdout.strip()
        decode_as = [f"udp.port=={port},dns", f"tcp.port=={port},dns"]  # not port 53
    else:
        path, decode_as = tmp_path / "cases.pcap", []
        write_scenario(path)
    ours = stats_json(path)
    every = tshark_tree(path, "dns", decode_as)
    assert int(every["Query"][0]) == ours["queries"]
    assert int(every["Response"][0]) == ours["responses"]
    timing = every["request-response time (msec)"]
    assert int(timing[0]) == ours["exchanges"]
    times = ours["response_time_ms"]
    assert isinstance(times, dict)
    assert float(timing[1]) == pytest.approx(times["mean"], abs=0.01)
    assert float(timing[2]) == pytest.approx(times["min"], abs=0.001)
    assert float(timing[3]) == pytest.approx(times["max"], abs=0.001)
    assert int(every["no. of unsolicited responses"][0]) == ours["unsolicited"]
    responses = tshark_tree(path, "dns.flags.response==1", decode_as)
    rcodes = {TSHARK_RCODES[k]: int(v[0]) for k, v in responses.items() if k in TSHARK_RCODES}
    assert rcodes == ours["rcodes"]
    queries = tshark_tree(path, "dns.flags.response==0", decode_as)
    qtypes = {k.split(" ")[0]: int(v[0]) for k, v in queries.items()
              if re.match(r"[A-Z0-9]+ \(", k)}  # "A (Host Address)"
    assert qtypes == ours["qtypes"]
    assert {"QUERY": int(queries["Standard query"][0])} == ours["opcodes"]


# ---- the CLI's outputs ----

def test_json_schema_and_text(tmp_path: Path) -> None:
    path = tmp_path / "cases.pcap"
    write_scenario(path)
    stats = stats_json(path)
    for key in ("exchanges", "unanswered", "unsolicited", "retransmissions", "duplicates",
                "tc_answers", "tc_retried_over_tcp", "queries", "responses", "messages"):
        assert isinstance(stats[key], int), key
    for key in ("rcodes", "qtypes", "opcodes", "edns"):
        histogram = stats[key]
        assert isinstance(histogram, dict)
        assert all(isinstance(k, str) and isinstance(v, int) for k, v in histogram.items())
    times = stats["response_time_ms"]
    assert isinstance(times, dict)
    assert set(times) >= {"min", "median", "p95", "p99", "max"}
    assert all(isinstance(v, float) for v in times.values())
    top = stats["top_names"]
    assert isinstance(top, list)
    assert top[0] == {"name": "big.test.", "count": 2}
    text = subprocess.run([sys.executable, "-m", "craft", "verify", str(path), "--stats"],
                          capture_output=True, text=True, timeout=120, check=False, cwd=REPO)
    assert "exchanges 7, unanswered 2, unsolicited 1" in text.stdout
    assert "TC answers 1 (1 retried over TCP)" in text.stdout
    plain = subprocess.run([sys.executable, "-m", "craft", "verify", str(path), "--json"],
                           capture_output=True, text=True, timeout=120, check=False, cwd=REPO)
    assert "stats" not in json.loads(plain.stdout)


ZEEK_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto",
               "trans_id", "rtt", "query", "qclass", "qclass_name", "qtype", "qtype_name",
               "rcode", "rcode_name", "AA", "TC", "RD", "RA", "Z", "answers", "TTLs", "rejected"]


def test_zeek_log(tmp_path: Path) -> None:
    path, log = tmp_path / "cases.pcap", tmp_path / "dns.log"
    write_scenario(path)
    done = subprocess.run([sys.executable, "-m", "craft", "verify", str(path), "--log", str(log),
                           "--log-format", "zeek"], capture_output=True, text=True, timeout=120,
                          check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 10  # 7 answered, 2 unanswered, 1 unsolicited
    for line in lines:
        assert set(line) <= set(ZEEK_FIELDS)
        assert list(line) == [f for f in ZEEK_FIELDS if f in line]  # Zeek's order
    google = next(line for line in lines if line.get("query") == "google.com")
    assert google == {
        "ts": T0, "uid": google["uid"], "id.orig_h": "10.0.0.1", "id.orig_p": 40001,
        "id.resp_h": "10.0.0.53", "id.resp_p": 53, "proto": "udp", "trans_id": 1,
        "rtt": 0.01, "query": "google.com", "qclass": 1, "qclass_name": "C_INTERNET",
        "qtype": 1, "qtype_name": "A", "rcode": 0, "rcode_name": "NOERROR", "AA": False,
        "TC": False, "RD": True, "RA": True, "Z": 0, "answers": ["192.0.2.1"],
        "TTLs": [300.0], "rejected": False,
    }
    assert re.fullmatch(r"C[0-9A-Za-z]{17}", google["uid"])
    gone = next(line for line in lines if line.get("query") == "gone.test")
    assert "rtt" not in gone and "rcode" not in gone and gone["rejected"] is False
    servfail = next(line for line in lines if line.get("query") == "broken.test")
    assert servfail["rcode_name"] == "SERVFAIL" and servfail["rejected"] is True
    tcp = next(line for line in lines if line["proto"] == "tcp")
    assert tcp["answers"] == ["TXT " + '"' + "x" * 200 + '"']
    craft_log = tmp_path / "craft.log"
    subprocess.run([sys.executable, "-m", "craft", "verify", str(path), "--log", str(craft_log)],
                   capture_output=True, timeout=120, check=False, cwd=REPO)
    rows = [json.loads(line) for line in craft_log.read_text().splitlines()]
    problems = sorted(p for row in rows for p in row["problems"])
    assert problems == ["duplicate", "retransmitted", "tc retry", "truncated", "unanswered",
                        "unanswered", "unsolicited"]


def test_html_page_is_self_contained_and_bounded(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "craft", "verify", str(SESSION), "--html",
                           str(page)], capture_output=True, text=True, timeout=120, check=False,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr
    text = page.read_text()
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "http://" not in text and "https://" not in text
    messages = text.split('id="msgs">', 1)[1].split("</script>", 1)[0].splitlines()
    assert len(messages) == 20
    assert all(len(line) <= 16384 for line in messages)
    first = json.loads(messages[0])
    assert first[0] == 1 and first[6] == first[6].lower() and first[8] == 0
    bad = subprocess.run([sys.executable, "-m", "craft", "verify", str(SESSION), "--html",
                          str(tmp_path / "no" / "such.html")], capture_output=True, text=True,
                         timeout=120, check=False, cwd=REPO)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    for option, target in (("--html", "/proc/craft-report.html"),  # a folder nothing is made in
                           ("--log", str(tmp_path / "no" / "such.log"))):
        bad = subprocess.run([sys.executable, "-m", "craft", "verify", str(SESSION), option,
                              target], capture_output=True, text=True, timeout=120, check=False,
                             cwd=REPO)
        assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr
        assert target in bad.stderr


def test_html_keeps_hex_for_the_first_messages_and_for_later_ones_with_a_problem(
        tmp_path: Path) -> None:
    from craft.report import html
    from craft.verify import Outcome, ProblemKind

    page = html.HtmlReport(str(tmp_path / "p.html"), "x.pcap", detailed=2)
    data = encode(build_query(Name.from_text("a.example."), ident=7))
    clean, bad = Outcome("query"), Outcome("query", ((ProblemKind.DISAGREE, "qr: 0 / 1"),))
    for number, outcome in enumerate((clean, clean, clean, bad, clean), 1):
        page.message(DnsItem(number, 0.0, "udp", ("127.0.0.1", 1), ("127.0.0.1", 53), data),
                     outcome)
    page._messages.seek(0)
    lines = [json.loads(line) for line in page._messages]
    assert [line[6] is not None for line in lines] == [True, True, False, True, False]
    assert lines[3][9] == "disagree: qr: 0 / 1" and lines[2][9] == ""
    assert page.undetailed == 2 and page.status.decode() == "00010"
