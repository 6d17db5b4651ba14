#!/usr/bin/env python3
"""Writes pcaps/malformed.pcap (or the path given): DNS on port 53 that craft must flag,
framed and written by Scapy, with fixed times so the file is the same on every run.

Packets: 1-2 a good query and response; 3 a pointer to itself (a loop); 4 a forward
pointer; 5 a question cut short; 6 trailing garbage; 7 a reserved label type (01);
8 a valid message that Scapy misreads: 26 questions whose names chain 25 compression
pointers, and Scapy stops following after 20 jumps (a disagreement, not a malformed
message).
"""

import struct
import sys
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


def chained_questions() -> bytes:
    """26 questions: a., x.a., x.x.a. ..., each name a label and a pointer to the last."""
    body = bytearray(b"\x01a\x00\x00\x01\x00\x01")
    starts = [12]
    for _ in range(25):
        starts.append(12 + len(body))
        body += b"\x01x" + struct.pack("!H", 0xC000 | starts[-2]) + b"\x00\x01\x00\x01"
    return struct.pack("!HHHHHH", 0xCAFE, 0, 26, 0, 0, 0) + bytes(body)


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
    packets.append(frame(chained_questions()))
    for number, packet in enumerate(packets):
        packet.time = 1764000000 + number / 10
    default = Path(__file__).resolve().parent.parent / "pcaps" / "malformed.pcap"
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    wrpcap(str(out), packets)
    print(f"wrote {out} ({len(packets)} packets)")


if __name__ == "__main__":
    main()
