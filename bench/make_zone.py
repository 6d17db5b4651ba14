#!/usr/bin/env python3
"""Write a large test zone for the scale benchmarks: N A records and N/10 TXT records.

``python3 bench/make_zone.py OUT.zone --records 1100000`` writes ``big.test.`` with an SOA,
two NS (with glue), ``host<i>`` A records (10/8 addresses) and ``txt<i>`` TXT records, ten A
for every TXT. The output is generated, never committed; ``bench/run.py`` writes its own.
"""

from __future__ import annotations

import argparse
import sys

ORIGIN = "big.test."


def write_zone(out: object, records: int, origin: str = ORIGIN) -> int:
    """Write the zone to the text stream ``out``; returns the number of records written."""
    write = out.write  # type: ignore[attr-defined]
    txt = records // 11
    hosts = records - txt
    write(f"$ORIGIN {origin}\n$TTL 3600\n")
    write("@ IN SOA ns1 hostmaster 2026112901 3600 600 86400 300\n")
    write("@ IN NS ns1\n@ IN NS ns2\nns1 IN A 127.0.0.1\nns2 IN A 127.0.0.2\n")
    lines = []
    for i in range(hosts):
        lines.append(f"host{i} IN A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n")
        if len(lines) >= 10000:
            write("".join(lines))
            lines.clear()
    for i in range(txt):
        lines.append(f'txt{i} 300 IN TXT "record {i} of the scale bench" "v=1"\n')
        if len(lines) >= 10000:
            write("".join(lines))
            lines.clear()
    write("".join(lines))
    return hosts + txt + 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="zone file to write ('-' for stdout)")
    parser.add_argument("--records", type=int, default=1_100_000)
    parser.add_argument("--origin", default=ORIGIN)
    args = parser.parse_args()
    if args.out == "-":
        write_zone(sys.stdout, args.records, args.origin)
    else:
        with open(args.out, "w", encoding="ascii") as out:
            write_zone(out, args.records, args.origin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
