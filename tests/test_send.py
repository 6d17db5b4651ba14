"""Crafting: each named fault makes the intended bytes, the server answers or drops each
as the RFCs say, and decoding keeps layouts so unmodified messages re-encode byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from craft.capture.reader import dns_messages
from craft.commands.send import join_multiword
from craft.dns.codec import decode, encode
from craft.dns.constants import Rcode
from craft.dns.message import Header, Message, Question, Record
from craft.dns.mutate import MUTATIONS, MutationError, mutate
from craft.dns.names import Name
from craft.dns.rdata import A
from craft.dns.wire import Layout, WireError
from craft.dns_client import build_query
from craft.transport import send_bytes

REPO = Path(__file__).resolve().parent.parent
QUERY = encode(Message(Header(id=0x1234), (Question(Name.from_text("google.com.")),)))
WITH_ANSWER = encode(Message(Header(id=0x1234), (Question(Name.from_text("a.test.")),),
                             (Record.make(Name.from_text("a.test."), 60, A("1.2.3.4")),)))

EXPECTED = {
    "pointer-loop": (QUERY, QUERY[:12] + b"\xc0\x0c" + QUERY[24:], "self compression pointer"),
    "forward-pointer": (QUERY, QUERY[:12] + b"\xc0\x0e" + QUERY[24:], "forward or looping"),
    "pointer-into-header": (QUERY, QUERY[:12] + b"\xc0\x04" + QUERY[24:], "into the header"),
    "long-label": (QUERY, QUERY[:12] + b"\x40" + b"a" * 64 + b"\x00" + QUERY[24:], "reserved label type 01"),
    "long-name": (QUERY, QUERY[:12] + (b"\x3f" + b"a" * 63) * 5 + b"\x00" + QUERY[24:], "longer than 255"),
    "reserved-label-type": (QUERY, QUERY[:12] + b"\x86" + QUERY[13:], "reserved label type 10"),
    "truncate:20": (QUERY, QUERY[:20], "truncated"),
    "trailing:3": (QUERY, QUERY + b"\xaa\xaa\xaa", "trailing data"),
    "bad-rdlength": (WITH_ANSWER, WITH_ANSWER[:-6] + b"\x00\x05" + WITH_ANSWER[-4:], "runs past the end"),
    "flip:2": (QUERY, QUERY[:2] + b"\xff" + QUERY[3:], None),
}


def test_every_mutation_is_covered() -> None:
    assert {spec.split(":")[0] for spec in EXPECTED} == set(MUTATIONS)


@pytest.mark.parametrize("spec", sorted(EXPECTED))
def test_mutation_makes_the_intended_bytes(spec: str) -> None:
    source, expected, reason = EXPECTED[spec]
    assert mutate(source, spec) == expected
    if reason is not None:
        with pytest.raises(WireError, match=reason):
            decode(expected)


def test_mutation_errors_are_clear() -> None:
    for spec, text in (("nope", "unknown"), ("truncate", "needs truncate:N"),
                       ("truncate:999", "only"), ("bad-rdlength", "no RDLENGTH"),
                       ("pointer-loop:3", "takes no argument")):
        with pytest.raises(MutationError, match=text):
            mutate(QUERY, spec)


@pytest.mark.parametrize("spec", sorted(EXPECTED))
def test_server_answers_formerr_or_drops_and_survives(dns_server: tuple[str, int], spec: str) -> None:
    _, expected, _ = EXPECTED[spec]
    sent = send_bytes(expected, dns_server, timeout=0.5)
    if spec == "flip:2":
        assert sent.reply is None  # QR now set: a response is never answered (RFC 1035 7.3)
    else:
        assert sent.reply is not None
        reply = decode(sent.reply)
        assert reply.rcode == Rcode.FORMERR and reply.header.id == 0x1234 and reply.header.qr
    after = send_bytes(QUERY, dns_server, timeout=2)
    assert after.reply is not None and len(decode(after.reply).answer) == 2


def test_cli_send_json_and_exit_codes(dns_server: tuple[str, int]) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "craft", "dns-send", "--port",
                               str(dns_server[1]), *args], capture_output=True, text=True,
                              timeout=60, check=False, env={**os.environ, "NO_COLOR": "1"})

    ok = run("--question", "google.com A", "--id", "0x1a2b", "--flags", "rd", "--json")
    data = json.loads(ok.stdout)
    assert ok.returncode == 0 and data["sent"]["hex"].startswith("1a2b0100")
    assert data["received"]["craft"]["header"]["flags"] == ["qr", "aa", "rd"]
    assert data["received"]["scapy"].startswith("Scapy agrees")
    lying = run("--question", "google.com A", "--qdcount", "2", "--json")
    assert json.loads(lying.stdout)["received"]["craft"]["header"]["rcode"] == "FORMERR"
    badvers = run("--question", "google.com A", "--edns-version", "1", "--do", "--json")
    received = json.loads(badvers.stdout)["received"]["craft"]
    assert received["header"]["rcode"] == "BADVERS" and received["additional"][0]["do"] is True
    raw = run("--raw", QUERY.hex())
    assert raw.returncode == 0 and "192.165.1.10" in raw.stdout and "pointer to offset 12" in raw.stdout
    dropped = run("--raw", QUERY.hex(), "--mutate", "flip:2", "--timeout", "0.3")
    assert dropped.returncode == 7 and "no reply within 0.3s" in dropped.stdout
    many = run("--question", "youtube.com A", "--count", "5", "--rate", "100")
    assert many.stdout.count("reply of") == 5
    bad = run("--mutate", "bogus", "--question", "a.b A")
    assert bad.returncode == 1 and "unknown" in bad.stderr and "Traceback" not in bad.stderr
    help_text = run("--help").stdout
    assert all(name in help_text for name in MUTATIONS)


def _same_bytes(wire: bytes) -> bool:
    layout = Layout()
    return encode(decode(wire, layout=layout), layout=layout) == wire


def test_layout_keeps_bytes_of_sample_pcaps_and_other_encoders() -> None:
    items = [i.data for path in ("session.pcap", "malformed.pcap")
             for i in dns_messages(str(REPO / "pcaps" / path))]
    readable = []
    for data in items:
        try:
            decode(data)
        except WireError:
            continue
        readable.append(data)
    assert len(readable) >= 22 and all(_same_bytes(d) for d in readable)

    from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRMX

    uncompressed = bytes(DNS(id=1, qr=1, qd=[DNSQR(qname="Mail.Example.com", qtype="MX")],
                             an=[DNSRRMX(rrname="mail.example.com", exchange="MX.example.com")],
                             ar=[DNSRR(rrname="mx.example.com", rdata="192.0.2.1")]))
    assert encode(decode(uncompressed)) != uncompressed  # craft alone would compress it
    assert _same_bytes(uncompressed)

    dns_message = pytest.importorskip("dns.message")
    import dns.rrset

    query = dns_message.make_query("WWW.example.com", "MX", want_dnssec=True)
    response = dns_message.make_response(query)
    response.answer.append(dns.rrset.from_text("WWW.example.com.", 300, "IN", "MX",
                                               "10 mail.example.com.", "20 Mail.EXAMPLE.com."))
    for message in (query, response):
        assert _same_bytes(message.to_wire())


def test_layout_falls_back_when_the_message_changes() -> None:
    original = encode(build_query(Name.from_text("google.com.")))
    layout = Layout()
    message = decode(original, layout=layout)
    changed = Message(message.header, (Question(Name.from_text("youtube.com.")),))
    assert decode(encode(changed, layout=layout)) == changed


def test_multiword_values_need_no_quotes() -> None:
    args = ["--question", "a.b", "A", "IN", "--tcp", "--answer=a.b.", "60", "IN", "A", "1.2.3.4",
            "--flags", "rd", "--question", "c.d", "--", "x"]
    assert join_multiword(args) == ["--question", "a.b A IN", "--tcp", "--answer=a.b. 60 IN A 1.2.3.4",
                                    "--flags", "rd", "--question", "c.d", "--", "x"]
    assert join_multiword(["--question", "-x", "A"]) == ["--question", "-x A"]


def test_cli_question_as_the_issue_writes_it(dns_server: tuple[str, int]) -> None:
    run = subprocess.run([sys.executable, "-m", "craft", "dns-send", "--port", str(dns_server[1]),
                          "--question", "google.com", "MX", "IN", "--json"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    sent = json.loads(run.stdout)["sent"]["craft"]["question"]
    assert sent == [{"name": "google.com.", "type": "MX", "class": "IN"}]
    stray = subprocess.run([sys.executable, "-m", "craft", "dns-send", "--tcp", "extra"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert stray.returncode == 2 and "extra" in stray.stderr and "Traceback" not in stray.stderr
