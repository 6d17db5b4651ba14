#!/usr/bin/env python3
"""Writes pcaps/malformed.pcap: DNS on port 53 that craft must flag, built with Scapy.

Packets: 1-2 a good query and response; 3 a pointer loop; 4 a forward pointer;
5 a question cut short; 6 trailing garbage; 7 a reserved label type (0x40).
"""

from pathlib import Path

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

HEADER = bytes.fromhex("beef0000000100000000" "0000")
BAD = [
    HEADER + bytes.fromhex("c00c00010001"),            # pointer to itself: a loop
    HEADER + bytes.fromhex("c01400010001" "0000000000000000"),  # forward pointer
    HEADER + bytes.fromhex("06676f6f676c"),            # question cut short
    HEADER + bytes.fromhex("0000010001" "deadbeef"),   # trailing garbage
    HEADER + bytes.fromhex("4100" "00010001"),         # reserved label type 01
]


def frame(payload: bytes, query: bool = True) -> Ether:
    ports = (40000, 53) if query else (53, 40000)
    return (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
            / IP(src="127.0.0.1", dst="127.0.0.1") / UDP(sport=ports[0], dport=ports[1])
            / Raw(payload))


def main() -> None:
    good_query = DNS(id=0x1A2B, rd=0, qd=[DNSQR(qname="google.com")])
    good_answer = DNS(id=0x1A2B, qr=1, aa=1, rd=0, qd=[DNSQR(qname="google.com")],
                      an=[DNSRR(rrname="google.com", ttl=260, rdata="192.165.1.1")])
    packets = [frame(bytes(good_query)), frame(bytes(good_answer), query=False)]
    packets += [frame(data) for data in BAD]
    for number, packet in enumerate(packets):
        packet.time = 1764000000 + number / 10
    out = Path(__file__).resolve().parent.parent / "pcaps" / "malformed.pcap"
    wrpcap(str(out), packets)
    print(f"wrote {out} ({len(packets)} packets)")


if __name__ == "__main__":
    main()
