"""craft.dns.denial in memory: which NSEC or NSEC3 records each proof picks, table-driven,
on hand-made chains (no signatures needed: the proofs choose records, the answerer signs
them). The NSEC3 chain is hashed with craft.dns.canonical.nsec3_hash, itself checked
against RFC 5155's vectors in test_canonical.py."""

from __future__ import annotations

import base64

import pytest

from craft.dns.canonical import nsec3_hash, order_key
from craft.dns.denial import OPT_OUT, Denial
from craft.dns.message import Record
from craft.dns.names import Name
from craft.dns.rdtypes.dnssec import NSEC, NSEC3, NSEC3PARAM

ORIGIN = Name.from_text("example.")
# Names of the zone (y.example is an empty non-terminal: only x.y.example is there).
NAMES = ["example.", "a.example.", "*.w.example.", "x.y.example.", "z.example."]
SALT, ITERATIONS = b"\xab\xcd", 0


def n(text: str) -> Name:
    return Name.from_text(text)


def nsec_chain() -> list[Record]:
    names = sorted((n(t) for t in NAMES), key=order_key)
    return [Record.make(name, 300, NSEC(names[(i + 1) % len(names)], (1,)))
            for i, name in enumerate(names)]


def nsec3_chain(names: list[str], flags: int = 0) -> tuple[list[Record], dict[str, str]]:
    """The chain over ``names`` and, for reading failures, each name's hashed owner."""
    hashed = sorted((nsec3_hash(n(t), SALT, ITERATIONS), t) for t in names)
    owners = {t: base64.b32hexencode(h).decode().lower() for h, t in hashed}
    records = [Record.make(Name((owners[t].encode(), *ORIGIN.labels)), 300,
                           NSEC3(1, flags, ITERATIONS, SALT, hashed[(i + 1) % len(hashed)][0], (1,)))
               for i, (_, t) in enumerate(hashed)]
    return records, owners


def owners(records: list[Record]) -> list[str]:
    return sorted(r.name.to_text() for r in records)


def covering(chain: list[Record], name: str) -> str:
    """The owner of the NSEC3 whose span holds ``name``'s hash (a test's own reading)."""
    digest = nsec3_hash(n(name), SALT, ITERATIONS)
    best = None
    for record in chain:
        assert isinstance(record.rdata, NSEC3)
        own = base64.b32hexdecode(record.name.labels[0].upper())
        if own < digest and (best is None or own > best[0]):
            best = (own, record.name.to_text())
    if best is None:  # before the first hash: the last one wraps around
        last = max(chain, key=lambda r: r.name.labels[0].upper())
        return last.name.to_text()
    return best[1]


NSEC_CASES = [
    # (method, qname, encloser, expected NSEC owners)
    ("nxdomain", "b.example.", "example.", ["a.example.", "example."]),  # b, and * < a
    ("nxdomain", "zz.example.", "example.", ["example.", "z.example."]),  # wraps to the apex
    ("nxdomain", "q.x.y.example.", "x.y.example.", ["x.y.example."]),  # covers q and *.x.y
    ("nodata", "a.example.", "", ["a.example."]),
    ("nodata", "y.example.", "", ["*.w.example."]),  # the ENT: the NSEC that covers it
    ("wildcard_answer", "h.w.example.", "w.example.", ["*.w.example."]),
    ("wildcard_nodata", "h.w.example.", "w.example.", ["*.w.example."]),
]


@pytest.mark.parametrize(("method", "qname", "encloser", "expected"), NSEC_CASES)
def test_nsec_proofs(method: str, qname: str, encloser: str, expected: list[str]) -> None:
    denial = Denial(ORIGIN, nsec_chain(), [], [], None)
    assert not denial.uses_nsec3
    args = (n(qname), n(encloser)) if encloser else (n(qname),)
    assert owners(getattr(denial, method)(*args)) == expected


ALL = [*NAMES, "w.example.", "y.example."]  # NSEC3 has the ENT and the wildcard's parent


def test_nsec3_nxdomain_is_closest_encloser_next_closer_and_wildcard() -> None:
    chain, hashed = nsec3_chain(ALL)
    param = Record.make(ORIGIN, 0, NSEC3PARAM(1, 0, ITERATIONS, SALT))
    denial = Denial(ORIGIN, [], chain, [], param)
    proof = owners(denial.nxdomain(n("q.a.example."), n("a.example.")))
    expected = {f"{hashed['a.example.']}.example.", covering(chain, "q.a.example."),
                covering(chain, "*.a.example.")}
    assert proof == sorted(expected)


def test_nsec3_nodata_wildcard_and_opt_out() -> None:
    chain, hashed = nsec3_chain(ALL)
    denial = Denial(ORIGIN, [], chain, [], None)  # parameters from the chain itself
    assert owners(denial.nodata(n("y.example."))) == [f"{hashed['y.example.']}.example."]
    assert owners(denial.wildcard_answer(n("h.w.example."), n("w.example."))) == \
        [covering(chain, "h.w.example.")]
    assert set(owners(denial.wildcard_nodata(n("h.w.example."), n("w.example.")))) == {
        f"{hashed['w.example.']}.example.", covering(chain, "h.w.example."),
        f"{hashed['*.w.example.']}.example."}
    # opt-out: "d.example." (an unsigned delegation) has no NSEC3 of its own; its no-DS
    # proof is the apex (closest provable encloser) and the opt-out span covering it.
    optout, hashed = nsec3_chain(ALL, OPT_OUT)
    denial = Denial(ORIGIN, [], optout, [], None)
    assert set(owners(denial.nodata(n("d.example.")))) == {
        f"{hashed['example.']}.example.", covering(optout, "d.example.")}
