"""Zones signed by real signers load as they are and round-trip byte for byte: BIND's
``dnssec-signzone`` (NSEC and NSEC3), ldns's ``ldns-signzone`` (NSEC3) and Knot's
``kzonesign`` (NSEC3, with CDS and CDNSKEY). Keys are made fresh in a temporary folder.

Each signed file is read by craft and by dnspython: every RRset has the same rdata octets.
craft's own text of the zone reads back to the same records, and each RRset survives
encoding in a message and decoding (the octets again identical)."""

from __future__ import annotations

from pathlib import Path

import dns.zone
import pytest
from dnssec_zones import run as _run
from dnssec_zones import tool as _tool

from craft.dns.codec import decode, encode
from craft.dns.message import Message, Record
from craft.dns.names import Name
from craft.dns.wire import Layout, Writer
from craft.dns.zone import Zone
from craft.dns.zonefile import parse_zone, zone_to_text
from craft.zone_loader import load_zone

ORIGIN = "example.test."
UNSIGNED = """\
$ORIGIN example.test.
$TTL 3600
@ IN SOA ns1 hostmaster ( 2024010101 ; serial
      3600 900 604800 300 )
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.2
www AAAA 2001:db8::2
@ MX 10 mail
mail A 192.0.2.3
@ TXT "v=spf1 -all" "second \\"string\\""
@ CAA 0 issue "ca.example.net"
_443._tcp.www TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
svc HTTPS 1 . alpn=h2,h3 port=443 ipv4hint=192.0.2.2
svc SVCB 0 www
sub NS ns.sub
ns.sub A 192.0.2.9
sub DS 12345 13 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE49FD46E6C4B45C55D4AC69CB
loc LOC 52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m
_sip._udp SRV 0 5 5060 sip
sip NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:info@example.test!" .
sip SSHFP 1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac
sip HINFO "PC" "Linux"
uri URI 10 1 "https://example.test/"
alias CNAME www
"""


def _bind(tmp_path: Path, nsec3: bool) -> Path:
    keygen = _tool("dnssec-keygen", "bind9-utils")
    signzone = _tool("dnssec-signzone", "bind9-utils")
    zone = tmp_path / "example.test.zone"
    ksk = _run([keygen, "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "example.test"], tmp_path)
    zsk = _run([keygen, "-q", "-a", "ECDSAP256SHA256", "example.test"], tmp_path)
    keys = "".join((tmp_path / f"{k}.key").read_text() for k in (ksk, zsk))
    zone.write_text(UNSIGNED + keys)
    out = tmp_path / "signed.zone"
    extra = ["-3", "ABCDEF", "-H", "0"] if nsec3 else []
    _run([signzone, "-q", *extra, "-o", "example.test", "-f", str(out), str(zone), ksk, zsk],
         tmp_path)
    return out


def _ldns(tmp_path: Path) -> Path:
    keygen = _tool("ldns-keygen", "ldnsutils")
    signzone = _tool("ldns-signzone", "ldnsutils")
    ksk = _run([keygen, "-a", "ECDSAP256SHA256", "-k", "example.test"], tmp_path)
    zsk = _run([keygen, "-a", "ECDSAP256SHA256", "example.test"], tmp_path)
    zone = tmp_path / "example.test.zone"
    zone.write_text(UNSIGNED)
    _run([signzone, "-n", "-s", "aabbcc", "-t", "0", str(zone), ksk, zsk], tmp_path)
    return tmp_path / "example.test.zone.signed"


def _knot(tmp_path: Path) -> Path:
    sign = _tool("kzonesign", "knot-dnssecutils")
    (tmp_path / "example.test.zone").write_text(UNSIGNED)
    (tmp_path / "kasp").mkdir()
    (tmp_path / "out").mkdir()
    conf = tmp_path / "knot.conf"
    conf.write_text(
        f"database:\n  storage: {tmp_path}\n  kasp-db: {tmp_path}/kasp\n"
        "policy:\n  - id: p\n    algorithm: ecdsap256sha256\n    nsec3: on\n"
        "    nsec3-iterations: 0\n    nsec3-salt-length: 4\n    cds-cdnskey-publish: always\n"
        f"zone:\n  - domain: example.test\n    file: {tmp_path}/example.test.zone\n"
        "    dnssec-signing: on\n    dnssec-policy: p\n"
    )
    _run([sign, "-c", str(conf), "-o", str(tmp_path / "out"), "example.test"], tmp_path)
    return tmp_path / "out" / "example.test.zone"


def _rdata_octets(rdata: object) -> bytes:
    w = Writer()
    rdata.encode(w, compress=False)  # type: ignore[attr-defined]
    return w.getvalue()


def _craft_rrsets(zone: Zone) -> dict[tuple[str, int], set[bytes]]:
    out: dict[tuple[str, int], set[bytes]] = {}
    for record in zone.records:
        key = (record.name.to_text().lower(), record.rtype)
        out.setdefault(key, set()).add(_rdata_octets(record.rdata))
    return out


def _dnspython_rrsets(path: Path) -> dict[tuple[str, int], set[bytes]]:
    zone = dns.zone.from_file(str(path), origin=ORIGIN, relativize=False)
    out: dict[tuple[str, int], set[bytes]] = {}
    for name, node in zone.nodes.items():
        for rdataset in node.rdatasets:
            key = (name.to_text().lower(), int(rdataset.rdtype))
            out.setdefault(key, set()).update(rdata.to_wire() for rdata in rdataset)
    return out


SIGNERS = {
    "bind-nsec": lambda tmp: _bind(tmp, nsec3=False),
    "bind-nsec3": lambda tmp: _bind(tmp, nsec3=True),
    "ldns-nsec3": _ldns,
    "knot-nsec3": _knot,
}


@pytest.mark.parametrize("signer", sorted(SIGNERS))
def test_signed_zone_loads_and_round_trips(signer: str, tmp_path: Path) -> None:
    path = SIGNERS[signer](tmp_path)
    zone = load_zone(path)
    types = {record.rtype for record in zone.records}
    assert {46, 48} <= types  # RRSIG, DNSKEY
    assert (47 in types) if signer == "bind-nsec" else ({50, 51} <= types)
    if signer == "knot-nsec3":
        assert {59, 60} <= types  # CDS, CDNSKEY

    # the same octets as dnspython reads from the same file, RRset by RRset
    assert _craft_rrsets(zone) == _dnspython_rrsets(path)

    # craft's text of the zone reads back to the same records
    again = parse_zone(zone_to_text(zone), filename="again")
    assert set(again.records) == set(zone.records)

    # every RRset through a message and back, byte for byte
    rrsets: dict[tuple[Name, int], list[Record]] = {}
    for record in zone.records:
        rrsets.setdefault((record.name, record.rtype), []).append(record)
    for records in rrsets.values():
        message = Message(answer=tuple(records))
        for compress in (True, False):
            wire = encode(message, compress=compress)
            layout = Layout()
            decoded = decode(wire, layout=layout)
            assert [_rdata_octets(r.rdata) for r in decoded.answer] == \
                [_rdata_octets(r.rdata) for r in records]
            assert encode(decoded, compress=compress, layout=layout) == wire
