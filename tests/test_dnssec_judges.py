"""Judges of craft's DNSSEC serving: BIND serving the same signed zone, BIND's ``delv``
validating craft's answers, and Unbound as a validating resolver in front of craft (our own
instance on a free loopback port, with a stub zone to craft and the zone's KSK as trust
anchor: AD for positive and negative answers, SERVFAIL for a corrupted signature).

The zone (tests/dnssec_zones.py) is signed afresh by ``dnssec-signzone``: with NSEC, with
NSEC3, and with NSEC3 and opt-out. For every question below, asked with DO set, craft and BIND must
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
import dataclasses
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from conftest import craft_process, daemon_path, free_port, running_daemon, wait_until
from dnssec_zones import KINDS, ORIGIN, SignedZone, signed_zone, tool
from test_bind import running_named

from craft.dns.names import Name
from craft.dns.rdtypes.dnssec import RRSIG
from craft.dns.zone import Zone
from craft.dns.zonefile import zone_to_text
from craft.zone_loader import load_zone

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
    zone = signed_zone(tmp / "zone", kind)
    bind_dir = tmp / "bind"
    bind_dir.mkdir()
    clause = f'zone "{ORIGIN}" {{ type primary; file "{zone.path}"; }};\n'
    with running_named(bind_dir, clause, [ORIGIN],
                       options="  minimal-responses no-auth;\n") as bind_port, \
            serving_signed(tmp, zone) as craft_port:
        yield zone, craft_port, bind_port


def ask(port: int, name: str, rtype: str, do: bool = True, cd: bool = False,
        tcp: bool = True, rd: bool = False, timeout: float = 5) -> dns.message.Message:
    qname = ORIGIN if name == "@" else f"{name}.{ORIGIN}"
    query = dns.message.make_query(qname, rtype, use_edns=0, want_dnssec=do, payload=1232)
    query.id = secrets.randbits(16)
    if not rd:
        query.flags &= ~dns.flags.RD
    if cd:
        query.flags |= dns.flags.CD
    if tcp:
        return dns.query.tcp(query, "127.0.0.1", port=port, timeout=timeout)
    return dns.query.udp(query, "127.0.0.1", port=port, timeout=timeout)


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
                        ("secure", "DS"), ("www", "NSEC"), ("www", "ANY")]:
        ours, theirs = ask(craft_port, name, rtype, do=False), ask(bind_port, name, rtype, do=False)
        assert sections(ours) == sections(theirs), (name, rtype)
        assert ours.rcode() == theirs.rcode()
        if rtype not in ("RRSIG", "NSEC", "DNSKEY", "DS", "ANY"):
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


# ---- Unbound, validating, with a stub zone to craft and the KSK as trust anchor ----


@contextlib.contextmanager
def running_unbound(workdir: Path, craft_port: int, anchor: str) -> Iterator[int]:
    """Our own Unbound on 127.0.0.1 (never the system's service): validating, with a stub
    zone for the test zone pointing at craft and the zone's KSK as its only trust anchor."""
    unbound = daemon_path("unbound", "unbound")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = workdir / "unbound.conf"
    conf.write_text(
        "server:\n"
        f"  interface: 127.0.0.1\n  port: {port}\n  do-ip6: no\n  do-daemonize: no\n"
        f'  username: ""\n  chroot: ""\n  directory: "{workdir}"\n'
        f'  pidfile: "{workdir}/unbound.pid"\n  use-syslog: no\n  logfile: ""\n'
        "  verbosity: 1\n  val-log-level: 2\n  access-control: 127.0.0.0/8 allow\n"
        "  do-not-query-localhost: no\n  qname-minimisation: no\n"
        '  module-config: "validator iterator"\n'
        # test. is one of the names Unbound answers itself by default (RFC 6761).
        '  local-zone: "test." nodefault\n'
        f'  trust-anchor: "{anchor}"\n'
        "remote-control:\n  control-enable: no\n"
        f'stub-zone:\n  name: "{ORIGIN}"\n  stub-addr: 127.0.0.1@{craft_port}\n'
    )
    with running_daemon([unbound, "-d", "-c", str(conf)], workdir / "unbound.log"):
        def ready() -> bool:
            try:
                ask(port, "www", "A", rd=True, tcp=False, timeout=1)
            except Exception:  # not listening yet: dnspython raises timeouts and OSErrors
                return False
            return True

        wait_until(ready, f"unbound did not answer; log in {workdir / 'unbound.log'}", 15)
        yield port


def _anchor(zone: SignedZone) -> str:
    tokens = zone.ksk.split()
    at = tokens.index("DNSKEY")
    return " ".join([tokens[0], "DNSKEY", *tokens[at + 1:at + 4], "".join(tokens[at + 4:])])


RESOLVER_CASES = [("www", "A", 0), ("host.wild", "TXT", 0), ("nope", "A", 3), ("www", "TXT", 0),
                  ("ent", "A", 0), ("dangling", "A", 3), ("insecure", "DS", 0)]


def test_unbound_validates_craft_and_rejects_a_corrupted_signature(
        peers: tuple[SignedZone, int, int], tmp_path: Path) -> None:
    """AD for every answer, but where NSEC3 opt-out makes one insecure (RFC 5155 9.2: an
    opt-out NSEC3 covering the next closer name leaves room for an unsigned delegation): the
    NXDOMAINs, the wildcard answer and the DS NODATA of the unsigned delegation (no NSEC3 of
    its own: the opt-out span is the proof) in the opt-out zone. There, Unbound in front of BIND
    serving the same zone must say the same."""
    zone, craft_port, bind_port = peers
    opt_out = zone.path.read_text().count("NSEC3 1 1 ") > 0
    verdicts = {}
    with running_unbound(tmp_path / "good", craft_port, _anchor(zone)) as port:
        for name, rtype, rcode in RESOLVER_CASES:
            reply = ask(port, name, rtype, rd=True)
            assert reply.rcode() == rcode, (name, rtype)
            verdicts[name, rtype] = bool(reply.flags & dns.flags.AD)
            secure = not (opt_out and (name in ("host.wild", "insecure") or rcode == 3))
            assert verdicts[name, rtype] == secure, (name, rtype, reply)
    if opt_out:
        with running_unbound(tmp_path / "bind", bind_port, _anchor(zone)) as port:
            assert verdicts == {(name, rtype): bool(ask(port, name, rtype, rd=True).flags
                                                    & dns.flags.AD)
                                for name, rtype, _ in RESOLVER_CASES}

    # one signature spoiled: the RRSIG over mail's A, its last octet flipped
    records = list(load_zone(zone.path).records)
    mail = Name.from_text("mail." + ORIGIN)
    for i, record in enumerate(records):
        sig = record.rdata
        if record.name.equals(mail) and isinstance(sig, RRSIG) and sig.type_covered == 1:
            spoiled = sig.signature[:-1] + bytes([sig.signature[-1] ^ 1])
            records[i] = dataclasses.replace(record, rdata=dataclasses.replace(sig, signature=spoiled))
    broken = tmp_path / "broken.zone"
    broken.write_text(zone_to_text(Zone(Name.from_text(ORIGIN), tuple(records))))
    with serving_signed(tmp_path, SignedZone(broken, zone.unsigned, zone.keys, zone.ksk)) as bad, \
            running_unbound(tmp_path / "bad", bad, _anchor(zone)) as port:
        assert ask(port, "www", "A", rd=True).flags & dns.flags.AD
        assert ask(port, "mail", "A", rd=True).rcode() == dns.rcode.SERVFAIL
        # with CD the resolver hands the bogus data over unchecked
        assert ask(port, "mail", "A", rd=True, cd=True).rcode() == dns.rcode.NOERROR


# ---- zones from the other signers: ldns-signzone and Knot's kzonesign (NSEC3) ----


@pytest.mark.parametrize("signer", ["ldns-nsec3", "knot-nsec3"])
def test_delv_validates_zones_from_other_signers(signer: str, tmp_path: Path) -> None:
    """The zone test_signed_zones.py signs with each tool, served by craft: delv, trusting
    the zone's own KSK (flags 257), fully validates a positive, a NODATA and an NXDOMAIN
    answer."""
    from test_signed_zones import SIGNERS

    path = SIGNERS[signer](tmp_path)
    delv = tool("delv", "bind9-dnsutils")
    ksk = next(r.rdata for r in load_zone(path).records
               if r.rtype == 48 and getattr(r.rdata, "flags", 0) == 257)
    anchors = tmp_path / "anchor.conf"
    anchors.write_text(f'trust-anchors {{ "{ORIGIN}" static-key 257 3 {ksk.algorithm} '  # type: ignore[attr-defined]
                       f'"{ksk.to_text().split(None, 3)[3].replace(" ", "")}"; }};\n')
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--strict", "--zone",
                        str(path)]) as (_, port):
        for qname, rtype in [("www." + ORIGIN, "A"), ("www." + ORIGIN, "TXT"),
                             ("nope." + ORIGIN, "A"), ("alias." + ORIGIN, "A")]:
            verdict = delv_verdict(delv, port, anchors, qname, rtype)
            assert "fully validated" in verdict, (signer, qname, rtype, verdict)
