"""TSIG (RFC 8945) over message octets: keys, signing, verification, chained streams.

Owns what a MAC covers and how it is checked, with nothing but ``hmac`` and ``hashlib``:
keys read from ``NAME:ALGORITHM:BASE64`` text, dig's ``-y [ALG:]NAME:SECRET`` and BIND's
``key "name" { algorithm ...; secret "..."; };`` files; ``sign`` appends a TSIG record to
encoded messages (with deliberate faults for crafting); ``check_request`` says whether a
query's TSIG holds (BADKEY, BADSIG, BADTIME, BADTRUNC, FORMERR); ``StreamSigner`` and
``StreamVerifier`` chain the MACs of a multi-message transfer (RFC 8945 5.3.1).
``craft.dns.answering`` answers with it, ``craft.dns_client`` asks with it. Every function
works on octets because a MAC covers octets: decoding and re-encoding would change them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from craft.dns.constants import RRClass, RRType
from craft.dns.names import BadNameError, Name
from craft.dns.rdtypes.dnssec import TSIG, TSIG_ERRORS
from craft.dns.wire import HEADER, HEADER_SIZE, Reader, Span, SpanKind, WireError
from craft.errors import CraftError

FUDGE = 300  # seconds of clock skew allowed (RFC 8945 10: 300 is the recommended value)
BADSIG, BADKEY, BADTIME, BADTRUNC = 16, 17, 18, 22
FORMERR, NOTAUTH = 1, 9
EVERY = 1  # a transfer's messages carry a TSIG each (RFC 8945 5.3.1 allows every 100th)
MAX_UNSIGNED = 99  # messages a verifier accepts between two signed ones (RFC 8945 5.3.1)

# The algorithm names of RFC 8945 6 we implement, with the hash each uses.
HASHES = {"hmac-sha1": "sha1", "hmac-sha224": "sha224", "hmac-sha256": "sha256",
          "hmac-sha384": "sha384", "hmac-sha512": "sha512"}


class TsigError(CraftError):
    """A key's text, a key file or a TSIG record cannot be used; ``reason`` says why."""


def algorithm_name(text: str) -> Name:
    """``hmac-sha256`` or ``hmac-sha256.`` (any case) to the algorithm's name."""
    short = text.lower().rstrip(".")
    if short not in HASHES:
        known = ", ".join(sorted(HASHES))
        raise TsigError(text, f"unknown TSIG algorithm (known: {known})")
    return Name.from_text(short + ".")


def hash_of(algorithm: Name) -> str | None:
    """The hashlib name behind an algorithm name, None for one we do not implement."""
    return HASHES.get(algorithm.to_text().lower().rstrip("."))


@dataclass(frozen=True, slots=True)
class Key:
    """A shared secret: its name, its algorithm's name and the secret's octets."""

    name: Name
    algorithm: Name
    secret: bytes = field(repr=False)

    @property
    def hash(self) -> str:
        found = hash_of(self.algorithm)
        assert found is not None  # keys are built through algorithm_name
        return found

    @property
    def size(self) -> int:
        """The full MAC's length in octets."""
        return hashlib.new(self.hash).digest_size

    def mac(self, data: bytes) -> bytes:
        return hmac.new(self.secret, data, self.hash).digest()


def make_key(name: str, algorithm: str, secret: str) -> Key:
    """A key from its three texts; TsigError naming what is wrong."""
    try:
        owner = Name.from_text(name if name.endswith(".") else name + ".")
    except BadNameError as exc:
        raise TsigError(name, exc.reason) from None
    if not owner.labels:
        raise TsigError(name, "a key needs a name")
    try:
        octets = base64.b64decode(secret.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise TsigError(owner.to_text(), "the secret is not base64") from None
    if not octets:
        raise TsigError(owner.to_text(), "the secret is empty")
    return Key(owner, algorithm_name(algorithm), octets)


def parse_key(text: str) -> Key:
    """``NAME:ALGORITHM:BASE64`` (dns-serve's ``--tsig-key``)."""
    parts = text.split(":")
    if len(parts) != 3:
        raise TsigError(text, "a key is NAME:ALGORITHM:BASE64")
    return make_key(parts[0], parts[1], parts[2])


def parse_dig_key(text: str) -> Key:
    """dig's ``-y [ALG:]NAME:SECRET``; without ALG, hmac-sha256 (dig's default)."""
    parts = text.split(":")
    if len(parts) == 2:
        return make_key(parts[0], "hmac-sha256", parts[1])
    if len(parts) == 3:
        return make_key(parts[1], parts[0], parts[2])
    raise TsigError(text, "a key is [ALGORITHM:]NAME:SECRET")


_KEY_BLOCK = re.compile(r'key\s+"?([^"\s{]+)"?\s*\{(.*?)\}\s*;', re.S)
_KEY_FIELD = re.compile(r'(algorithm|secret)\s+"?([^";\s]+)"?\s*;', re.S)


def parse_keyfile(text: str, filename: str) -> list[Key]:
    """Every ``key "name" { algorithm A; secret "B64"; };`` of a BIND key file (as
    tsig-keygen writes them); comments (``#``, ``//``, ``/* */``) are skipped."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"(#|//)[^\n]*", " ", text)
    keys = []
    rest = text
    for match in _KEY_BLOCK.finditer(text):
        values = dict(_KEY_FIELD.findall(match.group(2)))
        where = f"{filename}: key {match.group(1)}"
        if "algorithm" not in values or "secret" not in values:
            raise TsigError(where, "needs both an algorithm and a secret")
        try:
            keys.append(make_key(match.group(1), values["algorithm"], values["secret"]))
        except TsigError as exc:
            raise TsigError(where, exc.reason) from None
        rest = rest.replace(match.group(0), " ", 1)
    if rest.strip():
        raise TsigError(filename, f"not a key statement: {rest.strip().splitlines()[0][:60]!r}")
    if not keys:
        raise TsigError(filename, "no key statement")
    return keys


class Keyring(Mapping[bytes, Key]):
    """Keys by the lower-cased wire form of their names; a name given twice is an error."""

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        self._keys: dict[bytes, Key] = {}
        for key in keys:
            if key.name.key in self._keys:
                raise TsigError(key.name.to_text(), "key given twice")
            self._keys[key.name.key] = key

    def __getitem__(self, name: bytes) -> Key:
        return self._keys[name]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def named(self, name: Name) -> Key | None:
        return self._keys.get(name.key)


# ---- the record on the wire ----


@dataclass(frozen=True, slots=True)
class Signed:
    """A message's TSIG, found at the end of its octets: ``start`` is where the record
    begins, so ``unsigned`` is the message as it was before signing."""

    start: int
    owner: Name
    rdata: TSIG
    unsigned: bytes  # the octets before the TSIG, ARCOUNT less one, the original ID back


def find(wire: bytes) -> Signed | None:
    """The TSIG of a message when its last record is one, else None; WireError when the
    message or the TSIG's fields cannot be read."""
    if len(wire) < HEADER_SIZE:
        raise WireError(len(wire), "no header")
    ident, flags, qd, an, ns, ar = HEADER.unpack_from(wire)
    if ar == 0:
        return None
    reader = Reader(wire)
    reader.pos = HEADER_SIZE
    for _ in range(qd):
        reader.name("qname")
        reader.take(4, "question")
    start, rtype = reader.pos, 0
    for _ in range(an + ns + ar):
        start = reader.pos
        reader.name("owner")
        rtype = reader.u16("type")
        reader.take(6, "class and ttl")
        reader.take(reader.u16("rdlength"), "rdata")
    if rtype != RRType.TSIG:
        return None
    reader.pos = start
    owner = reader.name("owner")
    reader.take(8, "type, class and ttl")
    end = reader.u16("rdlength") + reader.pos
    algorithm = reader.name("algorithm")
    high, low = struct.unpack("!HI", reader.take(6, "time signed"))
    fudge = reader.u16("fudge")
    mac = reader.take(reader.u16("mac size"), "mac")
    original = reader.u16("original id")
    error = reader.u16("error")
    other = reader.take(reader.u16("other len"), "other data")
    if reader.pos != end or end != len(wire):
        raise WireError(reader.pos, "TSIG rdata length does not match its fields")
    rdata = TSIG(algorithm, high << 32 | low, fudge, mac, original, error, other)
    unsigned = (original.to_bytes(2, "big") + HEADER.pack(ident, flags, qd, an, ns, ar - 1)[2:]
                + wire[HEADER_SIZE:start])
    return Signed(start, owner, rdata, unsigned)


def variables(owner: Name, rdata: TSIG) -> bytes:
    """The TSIG variables a first message's MAC covers (RFC 8945 4.3.3): names in
    canonical (lower-case, uncompressed) form, class ANY, TTL 0, then the fields."""
    return (owner.key + struct.pack("!HI", RRClass.ANY, 0) + rdata.algorithm.key
            + timers(rdata) + struct.pack("!HH", rdata.error, len(rdata.other)) + rdata.other)


def timers(rdata: TSIG) -> bytes:
    """Time signed (48 bits) and fudge: all a later message of a stream covers (4.3.1)."""
    return struct.pack("!HIH", rdata.time_signed >> 32, rdata.time_signed & 0xFFFFFFFF,
                       rdata.fudge)


def prior(mac: bytes) -> bytes:
    """A request's (or the previous message's) MAC as a digest component: size, octets."""
    return len(mac).to_bytes(2, "big") + mac if mac else b""


def record(owner: Name, rdata: TSIG) -> bytes:
    """The TSIG record's octets: names uncompressed (RFC 8945 4.2), class ANY, TTL 0."""
    data = (rdata.algorithm.to_wire() + timers(rdata) + len(rdata.mac).to_bytes(2, "big") + rdata.mac
            + struct.pack("!HHH", rdata.original_id, rdata.error, len(rdata.other)) + rdata.other)
    return owner.to_wire() + struct.pack("!HHIH", RRType.TSIG, RRClass.ANY, 0, len(data)) + data


def append(wire: bytes, owner: Name, rdata: TSIG) -> bytes:
    """``wire`` with the TSIG record added last (ARCOUNT one more)."""
    ident, flags, qd, an, ns, ar = HEADER.unpack_from(wire)
    return HEADER.pack(ident, flags, qd, an, ns, ar + 1) + wire[HEADER_SIZE:] + record(owner, rdata)


@dataclass(frozen=True, slots=True)
class Faults:
    """Deliberate faults for crafting (``dns-send``): all off by default."""

    wrong_mac: bool = False  # flip the MAC's last bit
    truncate: int | None = None  # send only this many octets of the MAC
    algorithm: Name | None = None  # name this algorithm instead of the key's


def sign(wire: bytes, key: Key, now: int, *, request_mac: bytes = b"", fudge: int = FUDGE,
         error: int = 0, other: bytes = b"", time_signed: int | None = None,
         faults: Faults = Faults()) -> tuple[bytes, bytes]:
    """``wire`` signed with ``key`` (RFC 8945 4.3): the signed octets and the MAC as sent
    (which a response to it covers). ``request_mac`` makes it a response."""
    signed_at = now if time_signed is None else time_signed
    rdata = TSIG(faults.algorithm or key.algorithm, signed_at % 2**48, fudge, b"",
                 HEADER.unpack_from(wire)[0], error, other)
    mac = key.mac(prior(request_mac) + wire + variables(key.name, rdata))
    sent = mac
    if faults.wrong_mac:
        sent = sent[:-1] + bytes([sent[-1] ^ 1])
    if faults.truncate is not None:
        sent = sent[: faults.truncate]
    return append(wire, key.name, replace(rdata, mac=sent)), sent


def unsigned_error(wire: bytes, owner: Name, request: TSIG, error: int, now: int) -> bytes:
    """``wire`` with the TSIG of a BADKEY or BADSIG answer (RFC 8945 5.2): the request's
    key name, algorithm, fudge and original ID, our time, no MAC."""
    rdata = TSIG(request.algorithm, now % 2**48, request.fudge, b"", request.original_id, error, b"")
    return append(wire, owner, rdata)


def coverage(wire: bytes) -> list[Span]:
    """Spans (level 2) for the hex view: which octets of a signed message its MAC covers
    (RFC 8945 4.3.3): the message before the TSIG (its ID read as the original ID and
    ARCOUNT one less), the TSIG's owner, class and TTL, its algorithm, time and fudge, and
    its error and other data; then the MAC, which covers neither itself nor its size, the
    type, the rdata length or the original ID. None when the message is not signed."""
    try:
        signed = find(wire)
    except WireError:
        return []
    if signed is None:
        return []
    owner_end = signed.start + len(signed.owner.to_wire())  # owner names are never compressed
    reader = Reader(wire)
    reader.pos = owner_end + 10
    reader.name("algorithm")
    algorithm_end = reader.pos
    mac_end = algorithm_end + 10 + len(signed.rdata.mac)
    section = "TSIG MAC"

    def covers(start: int, end: int, what: str) -> Span:
        return Span(start, end, section, "covers", what, SpanKind.MAC_COVERS, 2)

    return [
        covers(0, signed.start, f"octets 0-{signed.start - 1}: the message before the TSIG, "
                                f"ID as original ID {signed.rdata.original_id}, ARCOUNT one less"),
        covers(signed.start, owner_end, "key name (lower-cased)"),
        covers(owner_end + 2, owner_end + 8, "class ANY, TTL 0"),
        covers(owner_end + 10, algorithm_end + 8, "algorithm (lower-cased), time signed, fudge"),
        covers(mac_end + 2, len(wire), "error, other len, other data"),
        Span(algorithm_end + 10, mac_end, section, "MAC", f"{len(signed.rdata.mac)} octets "
             "(with the request's MAC first, in an answer)", SpanKind.MAC, 2),
    ]


def coverage_line(spans: list[Span]) -> str:
    """One line naming the covered octet ranges, for a view without the table."""
    ranges = [f"{s.start}-{s.end - 1}" for s in spans if s.kind is SpanKind.MAC_COVERS and s.end > s.start]
    return f";; the TSIG's MAC covers octets {', '.join(ranges)}" if ranges else ""


# ---- checking a request ----


@dataclass(frozen=True, slots=True)
class Check:
    """What a query's TSIG comes to: ``error`` 0 with the ``key`` that verified it, or the
    TSIG error (BADKEY, BADSIG, BADTIME, BADTRUNC) or FORMERR (``rcode``)."""

    signed: Signed
    key: Key | None
    error: int = 0
    mac: bytes = b""  # the request's MAC, which the answer's MAC covers
    formerr: bool = False

    @property
    def signs_answer(self) -> bool:
        """Whether the answer is signed: the key verified the MAC (BADTIME, BADTRUNC and
        success); a BADKEY or BADSIG answer carries no MAC (RFC 8945 5.2)."""
        return self.key is not None and self.error in (0, BADTIME, BADTRUNC)


def check_request(wire: bytes, keys: Mapping[bytes, Key], now: int) -> Check | None:
    """Verify the TSIG closing ``wire`` (RFC 8945 5.2): None when there is none; WireError
    when it cannot be read. The order is the RFC's: key, MAC (its size first), time."""
    signed = find(wire)
    if signed is None:
        return None
    rdata = signed.rdata
    key = keys.get(signed.owner.key)
    if key is None or not key.algorithm.equals(rdata.algorithm):
        return Check(signed, None, BADKEY)
    size = len(rdata.mac)
    # RFC 8945 5.2.2.1: a MAC longer than the hash, or shorter than both 10 octets and
    # half the hash, cannot be checked (BIND answers BADSIG, as here).
    if size > key.size or size < max(10, key.size // 2):
        return Check(signed, None, BADSIG)
    expected = key.mac(signed.unsigned + variables(signed.owner, replace(rdata, mac=b"")))
    if not hmac.compare_digest(expected[:size], rdata.mac):
        return Check(signed, None, BADSIG)
    if abs(now - rdata.time_signed) > rdata.fudge:
        return Check(signed, key, BADTIME, rdata.mac)
    if size < key.size:  # our policy: full-length MACs only (as BIND with a plain key)
        return Check(signed, key, BADTRUNC, rdata.mac)
    return Check(signed, key, 0, rdata.mac)


def sign_answer(wire: bytes, check: Check, now: int) -> bytes:
    """The answer to a checked request, signed or not as RFC 8945 5.2 wants: a BADTIME
    answer carries the request's time and ours as other data (5.2.3)."""
    request = check.signed.rdata
    if not check.signs_answer:
        return unsigned_error(wire, check.signed.owner, request, check.error, now)
    assert check.key is not None
    if check.error == BADTIME:
        return sign(wire, check.key, now, request_mac=check.mac, fudge=request.fudge,
                    error=BADTIME, other=(now % 2**48).to_bytes(6, "big"),
                    time_signed=request.time_signed)[0]
    return sign(wire, check.key, now, request_mac=check.mac, fudge=request.fudge,
                error=check.error)[0]


def record_size(check: Check) -> int:
    """Octets the answer's TSIG takes: room kept for it when an answer is cut to a size."""
    key = check.key
    size = key.size if key is not None and check.signs_answer else 0
    other = 6 if check.error == BADTIME else 0
    return (len(check.signed.owner.to_wire()) + 10 + len(check.signed.rdata.algorithm.to_wire())
            + 16 + size + other)


# ---- streams (RFC 8945 5.3.1) ----


class StreamSigner:
    """Signs the messages of one transfer answer: the first covers the request's MAC, each
    later signed one the MAC before it, the messages since and the timers."""

    def __init__(self, key: Key, request_mac: bytes, now: int, fudge: int = FUDGE,
                 every: int = EVERY) -> None:
        self.key, self.mac, self.now, self.fudge = key, request_mac, now, fudge
        self.every = max(1, every)
        self.pending: list[bytes] = []
        self.first = True

    def sign(self, wire: bytes, last: bool) -> bytes:
        """``wire`` signed when it is the first, the last or an ``every``-th; unsigned
        (and remembered for the next MAC) otherwise."""
        self.pending.append(wire)
        if not (self.first or last or len(self.pending) >= self.every):
            return wire
        rdata = TSIG(self.key.algorithm, self.now % 2**48, self.fudge, b"",
                     HEADER.unpack_from(wire)[0], 0, b"")
        tail = variables(self.key.name, rdata) if self.first else timers(rdata)
        self.mac = self.key.mac(prior(self.mac) + b"".join(self.pending) + tail)
        self.first = False
        self.pending = []
        return append(wire, self.key.name, replace(rdata, mac=self.mac))

    def stream(self, messages: Iterable[bytes]) -> Iterator[bytes]:
        """Every message of ``messages`` signed as its place in the stream says."""
        it = iter(messages)
        held = next(it, None)
        while held is not None:
            following = next(it, None)
            yield self.sign(held, last=following is None)
            held = following


@dataclass(frozen=True, slots=True)
class Verdict:
    """The check of one received message: ``ok`` False with ``reason`` when it fails."""

    ok: bool
    reason: str = ""
    error: int = 0  # the TSIG error the signer put in, when signed
    signed: bool = False


class StreamVerifier:
    """Checks the answers to a request we signed with ``key``: one answer, or each message
    of a transfer in order, MACs chained as RFC 8945 5.3.1 says."""

    def __init__(self, key: Key, request_mac: bytes, fudge: int = FUDGE) -> None:
        self.key, self.mac, self.fudge = key, request_mac, fudge
        self.pending: list[bytes] = []
        self.first = True

    def feed(self, wire: bytes, now: int) -> Verdict:
        try:
            signed = find(wire)
        except WireError as exc:
            return Verdict(False, f"unreadable TSIG: {exc}")
        if signed is None:
            if self.first:
                return Verdict(False, "the answer is not signed")
            self.pending.append(wire)
            if len(self.pending) > MAX_UNSIGNED:
                return Verdict(False, f"more than {MAX_UNSIGNED} unsigned messages in a row")
            return Verdict(True)
        rdata = signed.rdata
        if not signed.owner.equals(self.key.name) or not rdata.algorithm.equals(self.key.algorithm):
            return Verdict(False, f"signed with another key ({signed.owner.to_text()} "
                                  f"{rdata.algorithm.to_text()})", rdata.error, True)
        if rdata.error in (BADKEY, BADSIG) and not rdata.mac:
            return Verdict(False, f"the server answered {error_text(rdata.error)} "
                                  "(it does not hold this key, or the MAC did not match)",
                           rdata.error, True)
        tail = variables(signed.owner, replace(rdata, mac=b"")) if self.first else timers(rdata)
        expected = self.key.mac(prior(self.mac) + b"".join(self.pending) + signed.unsigned + tail)
        if not rdata.mac or not hmac.compare_digest(expected[: len(rdata.mac)], rdata.mac) \
                or len(rdata.mac) < max(10, self.key.size // 2):
            return Verdict(False, "the MAC does not match (wrong key or altered message)",
                           rdata.error, True)
        self.mac, self.pending, self.first = rdata.mac, [], False
        if rdata.error == BADTIME:
            return Verdict(False, "the server answered BADTIME (the clocks differ by more "
                                  "than the fudge)", rdata.error, True)
        if rdata.error:
            return Verdict(False, f"the server answered {error_text(rdata.error)}", rdata.error, True)
        if abs(now - rdata.time_signed) > rdata.fudge:
            return Verdict(False, "the answer's time is outside the fudge", 0, True)
        return Verdict(True, signed=True)

    def finish(self) -> Verdict:
        """After the last message: the stream must end signed."""
        if self.pending:
            return Verdict(False, "the last message is not signed")
        return Verdict(True)


def error_text(error: int) -> str:
    return TSIG_ERRORS.get(error, str(error))
