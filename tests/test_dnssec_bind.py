"""Judges of craft's DNSSEC serving: BIND serving the same signed zone, BIND's ``delv``
validating craft's answers, and BIND's named as a validating resolver in front of craft.

The zone (tests/dnssec_zones.py) is signed afresh by ``dnssec-signzone``, once with NSEC and
once with NSEC3 (opt-out). For every question below, asked with DO set, craft and BIND must
give the same rcode, flags and sections, compared as sets of RRsets with TTLs.

named is configured with ``minimal-responses no-auth``: without it BIND adds the apex NS
set (and its RRSIGs) to the authority section of every positive answer, which craft, like
NSD, does not; additional data (addresses of MX, SRV and NS targets, with their RRSIGs)
is kept, as craft gives it. ``minimal-any yes`` is not set: BIND answers ANY with every
RRset at the name, as craft does, but without additional data (craft adds the addresses
of the MX and NS targets, as NSD does): for ANY the additional sections are not compared.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import pytest
from conftest import craft_process
from dnssec_zones import ORIGIN, SignedZone, signed_zone, tool
from test_bind import running_named

KINDS = ("nsec", "nsec3")
# (name relative to the origin, type): at least 30 per zone, every case a proof has.
QUESTIONS: list[tuple[str, str]] = [
    ("@", "SOA"), ("@", "NS"), ("@", "MX"), ("@", "TXT"), ("@", "DNSKEY"), ("www", "A"),
    ("www", "AAAA"), ("WwW", "A"), ("mail", "A"), ("alias", "A"), ("alias", "CNAME"),
    ("_sip._udp", "SRV"),
    # NXDOMAIN, and a CNAME into a name that does not exist
    ("nope", "A"), ("x.nope", "TXT"), ("zzz", "A"), ("dangling", "A"), ("dangling", "CNAME"),
    # NODATA, also at the apex and at a CNAME-less name
    ("www", "TXT"), ("@", "A"), ("mail", "MX"), ("ns1", "AAAA"),
    # wildcards: answers, several labels, a CNAME into one, NODATA at one
    ("host.wild", "A"), ("a.b.wild", "TXT"), ("wcname", "A"), ("host.wild", "MX"),
    ("*.wild", "A"), ("wild", "A"),
    # empty non-terminals
    ("ent", "A"), ("b.ent", "TXT"), ("a.b.ent", "A"), ("c.b.ent", "A"),
    # delegations: secure (DS), insecure (proof of no DS), below them, DS itself
    ("secure", "A"), ("www.secure", "A"), ("secure", "DS"), ("insecure", "A"),
    ("www.insecure", "AAAA"), ("insecure", "DS"), ("www", "DS"), ("nope", "DS"),
    # DNSSEC types asked for themselves, and ANY
    ("www", "RRSIG"), ("www", "NSEC"), ("@", "NSEC3PARAM"), ("@", "ANY"), ("www", "ANY"),
]


@contextlib.contextmanager
def serving_signed(tmp: Path, zone: SignedZone, *extra: str) -> Iterator[int]:
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--zone", str(zone.path),
                        *extra]) as (_, port):
        yield port


@pytest.fixture(scope="module", params=KINDS)
def peers(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SignedZone, int, int]]:
    """(zone, craft's port, BIND's port), both serving the same signed file."""
    kind = request.param
    tmp = tmp_path_factory.mktemp(f"dnssec-{kind}")
    zone = signed_zone(tmp / "zone", nsec3=kind == "nsec3")
    bind_dir = tmp / "bind"
    bind_dir.mkdir()
    clause = f'zone "{ORIGIN}" {{ type primary; file "{zone.path}"; }};\n'
    with running_named(bind_dir, clause, [ORIGIN],
                       options="  minimal-responses no-auth;\n") as bind_port, \
            serving_signed(tmp, zone) as craft_port:
        yield zone, craft_port, bind_port


def ask(port: int, name: str, rtype: str, do: bool = True, cd: bool = False,
        tcp: bool = True) -> dns.message.Message:
    qname = ORIGIN if name == "@" else f"{name}.{ORIGIN}"
    query = dns.message.make_query(qname, rtype, use_edns=0, want_dnssec=do, payload=1232)
    query.id = secrets.randbits(16)
    query.flags &= ~dns.flags.RD
    if cd:
        query.flags |= dns.flags.CD
    if tcp:
        return dns.query.tcp(query, "127.0.0.1", port=port, timeout=5)
    return dns.query.udp(query, "127.0.0.1", port=port, timeout=5)


def sections(message: dns.message.Message) -> dict[str, set[str]]:
    """Each section as a set of records in text, owner names lower-cased (BIND writes the
    zone's case, craft echoes the question's) and RRsets' order ignored."""
    out = {}
    for label, section in (("answer", message.answer), ("authority", message.authority),
                           ("additional", message.additional)):
        rows = set()
        for rrset in section:
            for rdata in rrset:
                rows.add(f"{rrset.name.to_text().lower()} {rrset.ttl} "
                         f"{dns.rdatatype.to_text(rrset.rdtype)} {rdata.to_text()}")
        out[label] = rows
    return out


def test_craft_answers_as_bind_does_with_do(peers: tuple[SignedZone, int, int]) -> None:
    _, craft_port, bind_port = peers
    differences = []
    for name, rtype in QUESTIONS:
        ours, theirs = ask(craft_port, name, rtype), ask(bind_port, name, rtype)
        got = (ours.rcode(), dns.flags.to_text(ours.flags), ours.ednsflags, sections(ours))
        want = (theirs.rcode(), dns.flags.to_text(theirs.flags), theirs.ednsflags,
                sections(theirs))
        if rtype == "ANY":  # BIND adds no additional data to ANY; craft (as NSD) does
            got[3]["additional"] = want[3]["additional"] = set()
        if got != want:
            differences.append(f"{name} {rtype}:\n  craft {got}\n  BIND  {want}")
    assert not differences, "\n".join(differences)
    assert len(QUESTIONS) * len(KINDS) >= 60


def test_without_do_nothing_dnssec_is_added(peers: tuple[SignedZone, int, int]) -> None:
    _, craft_port, bind_port = peers
    for name, rtype in [("www", "A"), ("nope", "A"), ("host.wild", "A"), ("insecure", "A"),
                        ("secure", "A"), ("www", "TXT"), ("www", "RRSIG"), ("@", "DNSKEY"),
                        ("secure", "DS"), ("www", "NSEC")]:
        ours, theirs = ask(craft_port, name, rtype, do=False), ask(bind_port, name, rtype, do=False)
        assert sections(ours) == sections(theirs), (name, rtype)
        assert ours.rcode() == theirs.rcode()
        if rtype not in ("RRSIG", "NSEC", "DNSKEY", "DS"):
            assert not any(rrset.rdtype in (46, 47, 50) for section in
                           (ours.answer, ours.authority, ours.additional) for rrset in section)


def test_cd_is_copied_and_ad_never_set(peers: tuple[SignedZone, int, int]) -> None:
    _, craft_port, _ = peers
    for cd in (False, True):
        reply = ask(craft_port, "www", "A", cd=cd)
        assert bool(reply.flags & dns.flags.CD) == cd
        assert not reply.flags & dns.flags.AD


def test_truncation_keeps_signatures_with_their_rrset(peers: tuple[SignedZone, int, int]) -> None:
    _, craft_port, _ = peers
    qname = f"{ORIGIN}"
    query = dns.message.make_query(qname, "ANY", use_edns=0, want_dnssec=True, payload=512)
    query.flags &= ~dns.flags.RD
    reply = dns.query.udp(query, "127.0.0.1", port=craft_port, timeout=5)
    assert reply.flags & dns.flags.TC
    types = {rrset.rdtype for rrset in reply.answer}
    covered = {rdata.type_covered for rrset in reply.answer if rrset.rdtype == 46
               for rdata in rrset}
    assert covered == types - {46}  # every set sent has its RRSIGs, and no RRSIG is alone


# ---- delv: craft's answers validate from the zone's KSK ----

DELV_CASES = [("www", "A"), ("nope", "A"), ("www", "TXT"), ("host.wild", "A"),
              ("ent", "A"), ("insecure", "DS"), ("secure", "DS"), ("dangling", "A")]


def delv_verdict(delv: str, port: int, anchors: Path, qname: str, rtype: str) -> str:
    done = subprocess.run([delv, "@127.0.0.1", "-p", str(port), "-a", str(anchors),
                           f"+root={ORIGIN}", qname, rtype], capture_output=True, text=True,
                          timeout=30)
    return (done.stdout.splitlines() or [done.stderr])[0]


def test_delv_fully_validates_craft(peers: tuple[SignedZone, int, int], tmp_path: Path) -> None:
    """Every answer is "fully validated", but a wildcard answer in the NSEC3 zone: its next
    closer name is covered by an opt-out NSEC3, so an unsigned delegation could be there and
    a validator may not call it secure (RFC 5155 9.2); delv says the same of BIND's answer."""
    zone, craft_port, bind_port = peers
    delv = tool("delv", "bind9-dnsutils")
    tokens = zone.ksk.split()
    flags, proto, alg, *material = tokens[tokens.index("DNSKEY") + 1:]
    anchors = tmp_path / "anchor.conf"
    anchors.write_text(f'trust-anchors {{ "{ORIGIN}" static-key {flags} {proto} {alg} '
                       f'"{"".join(material)}"; }};\n')
    opt_out = zone.path.read_text().count("NSEC3 1 1 ") > 0
    for name, rtype in DELV_CASES:
        qname = ORIGIN if name == "@" else f"{name}.{ORIGIN}"
        ours = delv_verdict(delv, craft_port, anchors, qname, rtype)
        assert ours == delv_verdict(delv, bind_port, anchors, qname, rtype), (name, rtype)
        if opt_out and name == "host.wild":
            assert ours == "; unsigned answer"
        else:
            assert "fully validated" in ours, (name, rtype, ours)
