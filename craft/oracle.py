"""Scapy's DNS layer as an independent oracle for craft's codec.

This module owns the comparison between craft and Scapy: dissecting bytes with Scapy
(quietly), building the Scapy packet that matches a craft ``Message``, and comparing the two
field by field into a ``Verdict``. Nothing else in craft imports Scapy's DNS layer for
checking; tests reuse ``to_scapy`` and ``scapy_dns`` from here.

Scapy is imported on first use only (it takes most of a second), by ``scapy()``, the one
loader in craft (the capture writer takes its Ethernet, IP, UDP and TCP layers from it too),
and its runtime log is
captured instead of printed: Scapy reports a pointer loop or a name cut short as a log
line and carries on with a partial value, so those lines become part of the verdict.

Names are compared in Scapy's own form, the labels joined by dots (``b"a.b."``), case kept.
That form cannot tell a dot inside a label from a label boundary; docs/oracle-gaps.md lists
that and the other places where Scapy cannot be the judge.
"""

from __future__ import annotations

import importlib
import ipaddress
import logging
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from craft.dns.codec import TTL_MAX, decode, record_wire
from craft.dns.constants import RRType, class_text, type_text
from craft.dns.message import Header, Message, Question, Record
from craft.dns.names import Name
from craft.dns.rdata import AAAA, CNAME, MX, NS, OPT, PTR, SOA, SRV, TXT, A, Opaque, Rdata
from craft.dns.rdtypes.basic import DNAME, HINFO, MB, MD, MF, MG, MINFO, MR, NAPTR
from craft.dns.rdtypes.dnssec import DLV, DNSKEY, DS, NSEC, NSEC3, NSEC3PARAM, RRSIG, TSIG
from craft.dns.rdtypes.fields import bitmap_windows
from craft.dns.rdtypes.svcb import HTTPS, SVCB
from craft.dns.wire import WireError, Writer

__all__ = ["Difference", "Scapy", "Verdict", "check", "compare", "scapy", "scapy_dns", "to_scapy"]

_HEADER_FIELDS = ("id", "qr", "opcode", "aa", "tc", "rd", "ra", "z", "ad", "cd", "rcode")
# Types whose rdata Scapy's generic DNSRR decodes (address, name or text); any other type
# without a dedicated class comes back as the raw rdata octets.
_DNSRR_DECODED = frozenset({1, 2, 3, 4, 5, 12, 16, 28, 39})
_SUMMARY_LIMIT = 400
# Types Scapy models with a class of its own: craft field -> Scapy field, compared one by
# one (besides the whole rdata's octets). SVCB/HTTPS params are compared as octets.
_SCAPY_FIELDS: dict[type[Rdata], tuple[tuple[str, str], ...]] = {
    RRSIG: (("type_covered", "typecovered"), ("algorithm", "algorithm"), ("labels", "labels"),
            ("original_ttl", "originalttl"), ("expiration", "expiration"),
            ("inception", "inception"), ("key_tag", "keytag"), ("signer", "signersname"),
            ("signature", "signature")),
    NSEC: (("next", "nextname"), ("types", "typebitmaps")),
    NSEC3: (("hash_algorithm", "hashalg"), ("flags", "flags"), ("iterations", "iterations"),
            ("salt", "salt"), ("next", "nexthashedownername"), ("types", "typebitmaps")),
    NSEC3PARAM: (("hash_algorithm", "hashalg"), ("flags", "flags"),
                 ("iterations", "iterations"), ("salt", "salt")),
    DNSKEY: (("flags", "flags"), ("protocol", "protocol"), ("algorithm", "algorithm"),
             ("key", "publickey")),
    DS: (("key_tag", "keytag"), ("algorithm", "algorithm"), ("digest_type", "digesttype"),
         ("digest", "digest")),
    DLV: (("key_tag", "keytag"), ("algorithm", "algorithm"), ("digest_type", "digesttype"),
          ("digest", "digest")),
    HINFO: (("cpu", "cpu"), ("os", "os")),
    NAPTR: (("order", "order"), ("preference", "preference"), ("flags", "flags"),
            ("services", "services"), ("regexp", "regexp"), ("replacement", "replacement")),
    TSIG: (("algorithm", "algo_name"), ("time_signed", "time_signed"), ("fudge", "fudge"),
           ("mac", "mac_data"), ("original_id", "original_id"), ("error", "error"),
           ("other", "other_data")),
    SVCB: (("priority", "svc_priority"), ("target", "target_name")),
    HTTPS: (("priority", "svc_priority"), ("target", "target_name")),
}


@dataclass(frozen=True, slots=True)
class Difference:
    """One field on which craft and Scapy read the same bytes differently."""

    field: str
    craft: str
    scapy: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What craft and Scapy each made of one message, and where they part."""

    craft_error: WireError | None
    scapy_error: str | None
    differences: tuple[Difference, ...]
    scapy_summary: str
    fields_checked: int

    @property
    def agrees(self) -> bool:
        return self.craft_error is None and self.scapy_error is None and not self.differences

    def describe(self) -> str:
        if self.agrees:
            return f"Scapy agrees ({self.fields_checked} fields)"
        if self.craft_error is not None:
            err = self.craft_error
            lines = [
                f"craft rejects at offset {err.offset}: {err.reason}",
                f"  Scapy reads: {self.scapy_summary}",
            ]
            if self.scapy_error is not None:
                lines.append(f"  Scapy notes: {self.scapy_error}")
            return "\n".join(lines)
        lines = [f"  {d.field}: craft={d.craft} scapy={d.scapy}" for d in self.differences]
        if self.scapy_error is not None:
            lines.append(f"  Scapy: {self.scapy_error}")
        return "\n".join(lines)


# ---- loading Scapy once, quietly ----


class _Collector(logging.Handler):
    """Keeps Scapy's runtime log lines while a capture is active, drops them otherwise."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.lines is not None and not _from_name_skip():
            self.lines.append(record.getMessage())


def _from_name_skip() -> bool:
    """True when the line comes from Scapy skipping an owner name to find the record type
    (``dns_get_str`` with ``_ignore_compression``): that scan reads on past a pointer by
    design, so its "prematured end" is about Scapy's shortcut, not about the message."""
    frame: FrameType | None = sys._getframe(2)
    for _ in range(16):
        if frame is None:
            return False
        if frame.f_code.co_name == "dns_get_str":
            return bool(frame.f_locals.get("_ignore_compression"))
        frame = frame.f_back
    return False


class Scapy:
    """The handful of Scapy names craft uses (the DNS layer for the oracle, the lower
    layers for the capture writer), resolved once per process by ``scapy()``."""

    def __init__(self) -> None:
        # Raising the parent logger first keeps Scapy's import-time chatter off stderr.
        logging.getLogger("scapy").setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dns: Any = importlib.import_module("scapy.layers.dns")
            packet: Any = importlib.import_module("scapy.packet")
            config: Any = importlib.import_module("scapy.config")
            inet: Any = importlib.import_module("scapy.layers.inet")
            inet6: Any = importlib.import_module("scapy.layers.inet6")
            l2: Any = importlib.import_module("scapy.layers.l2")
        self.DNS: Any = dns.DNS
        self.DNSQR: Any = dns.DNSQR
        self.DNSRR: Any = dns.DNSRR
        self.DNSRROPT: Any = dns.DNSRROPT
        self.DNSRRMX: Any = dns.DNSRRMX
        self.DNSRRSOA: Any = dns.DNSRRSOA
        self.DNSRRSRV: Any = dns.DNSRRSRV
        self.classes: dict[int, Any] = dict(dns.DNSRR_DISPATCHER)
        self.EDNS0TLV: Any = dns.EDNS0TLV
        self.Packet: Any = packet.Packet
        self.Raw: Any = packet.Raw
        self.Padding: Any = packet.Padding
        self.NoPayload: Any = packet.NoPayload
        self.conf: Any = config.conf
        self.Ether: Any = l2.Ether
        self.IP: Any = inet.IP
        self.IPv6: Any = inet6.IPv6
        self.UDP: Any = inet.UDP
        self.TCP: Any = inet.TCP
        self.collector = _Collector()
        # Scapy's runtime log goes to the collector only: dissection warnings are data here.
        runtime = logging.getLogger("scapy.runtime")
        runtime.setLevel(logging.INFO)
        runtime.propagate = False
        runtime.addHandler(self.collector)
        self.lock = threading.Lock()

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        """Collect Scapy's log lines while dissecting. The repeat filter is off so no line is
        swallowed, and the 100-entry cap on packet lists is lifted to what a DNS header can
        count, so a big but valid message is judged rather than refused."""
        with self.lock:
            lines: list[str] = []
            saved = self.conf.warning_threshold, self.conf.max_list_count
            self.conf.warning_threshold = 0
            self.conf.max_list_count = 0xFFFF
            self.collector.lines = lines
            try:
                yield lines
            finally:
                self.collector.lines = None
                self.conf.warning_threshold, self.conf.max_list_count = saved


_LIB: list[Scapy] = []
_LOAD_LOCK = threading.Lock()


def scapy() -> Scapy:
    """Scapy, imported on the first call (under a lock: threads may race to it); ImportError
    when it is missing."""
    if not _LIB:
        with _LOAD_LOCK:
            if not _LIB:
                _LIB.append(Scapy())
    return _LIB[0]


# ---- public entry points ----


def scapy_dns(data: bytes) -> Any:
    """Dissect ``data`` with ``scapy.layers.dns.DNS``; Scapy's exceptions propagate."""
    lib = scapy()
    with lib.capture():
        return lib.DNS(data)


def check(data: bytes) -> Verdict:
    """Decode ``data`` with craft and with Scapy and compare every field. Never raises."""
    craft_error: WireError | None = None
    message: Message | None = None
    try:
        message = decode(data)
    except WireError as exc:
        craft_error = exc
    try:
        lib = scapy()
    except Exception as exc:  # Scapy missing or broken: the verdict says so
        return Verdict(craft_error, f"Scapy unavailable: {exc}", (), "(Scapy unavailable)", 0)
    if not data:  # Scapy would show its default packet, not a reading of these bytes
        return Verdict(craft_error, "no octets to dissect", (), "nothing (no octets)", 0)
    try:
        with lib.capture() as log:
            pkt = lib.DNS(data)
            problems = _problems(lib, pkt)
            summary = _summary(lib, pkt)
        problems.extend(dict.fromkeys(log))  # keep order, drop repeats
    except Exception as exc:
        kind = type(exc)
        where = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
        reason = f"Scapy raised {where}{kind.__qualname__}: {exc}"
        return Verdict(craft_error, reason, (), "nothing (Scapy could not dissect it)", 0)
    scapy_error = "; ".join(problems) or None
    if message is None:
        return Verdict(craft_error, scapy_error, (), summary, 0)
    try:
        differences, count = _Comparison(lib).run(message, pkt)
    except Exception as exc:  # a Scapy value of a shape the comparison did not foresee
        note = f"comparison failed: {type(exc).__name__}: {exc}"
        scapy_error = f"{scapy_error}; {note}" if scapy_error else note
        return Verdict(None, scapy_error, (), summary, 0)
    return Verdict(None, scapy_error, differences, summary, count)


def compare(message: Message, scapy_dns: Any) -> tuple[Difference, ...]:
    """Compare a craft message with a Scapy DNS packet (dissected or built), field by field.

    ``scapy_dns`` may also be a packet that contains a DNS layer (Ether/IP/UDP/DNS)."""
    lib = scapy()
    return _Comparison(lib).run(message, scapy_dns)[0]


def to_scapy(message: Message) -> Any:
    """A Scapy DNS packet with the same fields as ``message``; built uncompressed, its bytes
    equal ``encode(message, compress=False)``. Records Scapy cannot express exactly (an
    rdata craft keeps opaque for a type Scapy decodes) go in as ``Raw`` record octets."""
    lib = scapy()
    h = message.header
    return lib.DNS(
        id=h.id, qr=int(h.qr), opcode=h.opcode, aa=int(h.aa), tc=int(h.tc), rd=int(h.rd),
        ra=int(h.ra), z=int(h.z), ad=int(h.ad), cd=int(h.cd), rcode=h.rcode,
        qd=[_question_to_scapy(lib, q) for q in message.question],
        an=[_record_to_scapy(lib, r) for r in message.answer],
        ns=[_record_to_scapy(lib, r) for r in message.authority],
        ar=[_record_to_scapy(lib, r) for r in message.additional],
    )


# ---- craft -> Scapy ----


def _flat(name: Name) -> bytes:
    """Scapy's form of a name: every label followed by a dot; the root is a lone dot."""
    return b"".join(label + b"." for label in name.labels) or b"."


def _name_to_scapy(name: Name) -> bytes:
    """The value to give a Scapy name field so that it writes exactly ``name``.

    Scapy splits text at dots, and treats text whose second-last octet has the top two bits
    set as already encoded; such names go in as uncompressed wire octets, which Scapy
    passes through untouched (a value ending in a zero octet counts as encoded)."""
    flat = _flat(name)
    if any(b"." in label or len(label) > 63 for label in name.labels) or (
        len(flat) >= 2 and flat[-2] & 0xC0 == 0xC0
    ):
        return name.to_wire()
    return flat


def _question_to_scapy(lib: Scapy, q: Question) -> Any:
    return lib.DNSQR(
        qname=_name_to_scapy(q.name), qtype=q.rtype,
        unicastresponse=q.rclass >> 15, qclass=q.rclass & 0x7FFF,
    )


def _record_to_scapy(lib: Scapy, rec: Record) -> Any:
    rdata = rec.rdata
    owner = _name_to_scapy(rec.name)
    split = {"cacheflush": rec.rclass >> 15, "rclass": rec.rclass & 0x7FFF}
    common: dict[str, Any] = {"rrname": owner, "type": rec.rtype, "ttl": rec.ttl}
    if rec.rtype == RRType.OPT and isinstance(rdata, OPT):
        return lib.DNSRROPT(
            rrname=owner, type=rec.rtype, rclass=rec.rclass, extrcode=(rec.ttl >> 24) & 0xFF,
            version=(rec.ttl >> 16) & 0xFF, z=rec.ttl & 0xFFFF,
            rdata=[lib.EDNS0TLV(optcode=o.code, optdata=o.data) for o in rdata.options],
        )
    if isinstance(rdata, A | AAAA) and rec.rtype == rdata.rtype:
        return lib.DNSRR(**common, **split, rdata=rdata.address)
    if isinstance(rdata, NS | CNAME | PTR) and rec.rtype == rdata.rtype:
        return lib.DNSRR(**common, **split, rdata=_name_to_scapy(rdata.target))
    if isinstance(rdata, TXT) and rec.rtype == rdata.rtype:
        return lib.DNSRR(**common, **split, rdata=list(rdata.strings))
    if isinstance(rdata, MX) and rec.rtype == rdata.rtype:
        return lib.DNSRRMX(
            **common, **split, preference=rdata.preference,
            exchange=_name_to_scapy(rdata.exchange),
        )
    if isinstance(rdata, SRV) and rec.rtype == rdata.rtype:
        return lib.DNSRRSRV(
            **common, **split, priority=rdata.priority, weight=rdata.weight,
            port=rdata.port, target=_name_to_scapy(rdata.target),
        )
    if isinstance(rdata, SOA) and rec.rtype == rdata.rtype:
        return lib.DNSRRSOA(
            **common, rclass=rec.rclass, mname=_name_to_scapy(rdata.mname),
            rname=_name_to_scapy(rdata.rname), serial=rdata.serial, refresh=rdata.refresh,
            retry=rdata.retry, expire=rdata.expire, minimum=rdata.minimum,
        )
    if isinstance(rdata, Opaque) and rec.rtype not in _DNSRR_DECODED and rec.rtype != RRType.OPT:
        # Scapy's generic record writes any other type's rdata as given.
        return lib.DNSRR(**common, **split, rdata=rdata.data)
    if isinstance(rdata, MD | MF | DNAME) and rec.rtype == rdata.rtype:
        return lib.DNSRR(**common, **split, rdata=_name_to_scapy(next(iter(_values(rdata)))))
    mapped = _SCAPY_FIELDS.get(type(rdata))
    if mapped is not None and rec.rtype == rdata.rtype and not isinstance(rdata, SVCB | HTTPS):
        values = {theirs: _value_to_scapy(getattr(rdata, ours)) for ours, theirs in mapped}
        if isinstance(rdata, NSEC3 | NSEC3PARAM):  # Scapy does not count these itself
            values["saltlength"] = len(rdata.salt)
        if isinstance(rdata, NSEC3):
            values["hashlength"] = len(rdata.next)
        if isinstance(rdata, TSIG):
            return lib.classes[rec.rtype](**common, rclass=rec.rclass, **values)
        return lib.classes[rec.rtype](**common, **split, **values)
    if isinstance(rdata, SVCB | HTTPS) and rec.rtype == rdata.rtype:
        # Scapy's SvcParam values have no single text form: let Scapy read our octets.
        return lib.classes[rec.rtype](record_wire(rec))
    if rec.rtype not in lib.classes and rec.rtype not in _DNSRR_DECODED:
        return lib.DNSRR(**common, **split, rdata=_rdata_wire(rdata))
    return lib.Raw(load=record_wire(rec))


def _has_pointer(octets: bytes) -> bool:
    """Whether uncompressed-looking name octets end in a compression pointer somewhere."""
    i = 0
    while i < len(octets):
        if octets[i] & 0xC0 == 0xC0:
            return True
        i += 1 + octets[i] if octets[i] else 1
    return False


def _values(rdata: Rdata) -> Iterator[Any]:
    return (getattr(rdata, name) for name, _ in rdata.fields)


def _value_to_scapy(value: Any) -> Any:
    if isinstance(value, Name):
        return _name_to_scapy(value)
    if isinstance(value, tuple):  # a type list: Scapy keeps the bitmap octets
        return bitmap_windows(value)
    return value


def _rdata_wire(rdata: Rdata) -> bytes:
    w = Writer()
    rdata.encode(w, compress=False)
    return w.getvalue()


# ---- reading Scapy's values ----


def _is_record(lib: Scapy, item: Any) -> bool:
    return isinstance(item, lib.Packet) and not isinstance(item, lib.Raw | lib.Padding)


def _scapy_name(value: Any) -> bytes:
    """A Scapy name value in flat form; wire-form values (ours, from ``to_scapy``) are
    expanded, as Scapy itself would write them."""
    raw = value.encode() if isinstance(value, str) else bytes(value or b".")
    if raw.endswith(b"\x00"):
        labels = []
        pos = 0
        while pos < len(raw) and raw[pos] != 0 and raw[pos] < 0x40:
            labels.append(raw[pos + 1 : pos + 1 + raw[pos]])
            pos += 1 + raw[pos]
        if pos == len(raw) - 1:
            return b"".join(label + b"." for label in labels) or b"."
    return raw


def _name_text(flat: bytes) -> str:
    """Scapy's flat name as readable text: printable ASCII kept, anything else ``\\DDD``."""
    return "".join(
        chr(b) if 0x21 <= b < 0x7F and b != 0x5C else f"\\{b:03d}" for b in flat
    )


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def _field_names(item: Any) -> set[str]:
    return {f.name for f in item.fields_desc}


def _rdata_octets(lib: Scapy, rr: Any) -> bytes:
    """The rdata octets as Scapy would write them from its decoded fields."""
    if type(rr) is lib.DNSRR and rr.type not in _DNSRR_DECODED:
        return _as_bytes(rr.rdata)
    clone = rr.copy()
    clone.remove_payload()
    clone.rrname = b"."
    clone.rdlen = None
    built = bytes(clone)
    return built[11:]  # root owner (1) + type, class, ttl, rdlength (10)


def _count(pkt: Any, field: str, items: Sequence[Any]) -> int:
    value = pkt.getfieldval(field)
    return len(items) if value is None else int(value)


def _sections(pkt: Any) -> tuple[tuple[str, str, list[Any]], ...]:
    # getfieldval, not pkt.qd: Scapy's attribute access wraps each list in a class it
    # defines anew on every call, a third of the oracle's time on small messages.
    get = pkt.getfieldval
    return (
        ("question", "qdcount", list(get("qd") or [])),
        ("answer", "ancount", list(get("an") or [])),
        ("authority", "nscount", list(get("ns") or [])),
        ("additional", "arcount", list(get("ar") or [])),
    )


def _dns_layer(lib: Scapy, pkt: Any) -> Any:
    if isinstance(pkt, lib.DNS):
        return pkt
    layer = pkt.getlayer(lib.DNS)
    if layer is None:
        raise ValueError(f"no DNS layer in {pkt.summary()}")
    return layer


def _problems(lib: Scapy, pkt: Any) -> list[str]:
    """Where Scapy left octets undecoded or read fewer entries than the header counts."""
    out: list[str] = []
    for section, count_field, items in _sections(pkt):
        count = _count(pkt, count_field, items)
        decoded = [item for item in items if _is_record(lib, item)]
        if len(decoded) < count:
            out.append(f"Scapy decoded {len(decoded)} of {count} {section} entries")
        for index, item in enumerate(items):
            where = f"{section}[{index}]"
            if not _is_record(lib, item):
                out.append(f"{where} left as {type(item).__name__} ({len(bytes(item))} octets)")
                continue
            rest = item.payload
            if not isinstance(rest, lib.NoPayload):
                out.append(f"{where}: {len(bytes(rest))} octets left as {type(rest).__name__}")
            if isinstance(item, lib.DNSRROPT):
                for j, opt in enumerate(item.rdata or []):
                    if not _is_record(lib, opt):
                        out.append(f"{where} option {j} left as {type(opt).__name__}")
                    elif opt.optlen is not None and len(bytes(opt)) - 4 != opt.optlen:
                        out.append(
                            f"{where} option {j} declares {opt.optlen} octets, "
                            f"Scapy read {len(bytes(opt)) - 4}"
                        )
    trailing = pkt.payload
    if not isinstance(trailing, lib.NoPayload):
        out.append(f"{len(bytes(trailing))} octets after the sections left as "
                   f"{type(trailing).__name__}")
    return out


def _rdata_summary(lib: Scapy, rr: Any) -> str:
    if isinstance(rr, lib.DNSRROPT):
        opts = ",".join(
            f"{o.optcode}" if _is_record(lib, o) else "Raw" for o in (rr.rdata or [])
        )
        return (f"udp {rr.rclass} ext {rr.extrcode} v{rr.version} z {rr.z:#06x}"
                f"{' options ' + opts if opts else ''}")
    if type(rr) is lib.DNSRR:
        value = rr.rdata
        if isinstance(value, list):
            return " ".join(repr(_as_bytes(v)) for v in value)
        if rr.type in (2, 3, 4, 5, 12, 39):
            return _name_text(_scapy_name(value))
        return _as_bytes(value).hex() if isinstance(value, bytes) else str(value)
    names = [f.name for f in rr.fields_desc]
    fields = names[names.index("rdlen") + 1 :] if "rdlen" in names else []
    parts = []
    for field in fields:
        value = rr.getfieldval(field)
        parts.append(_name_text(value) if isinstance(value, bytes) else str(value))
    return " ".join(parts)


def _summary(lib: Scapy, pkt: Any) -> str:
    """One line: header bits and each entry as Scapy decoded it."""
    bits = " ".join(f for f in ("qr", "aa", "tc", "rd", "ra", "z", "ad", "cd") if pkt.getfieldval(f))
    parts = [f"id {pkt.id} flags [{bits}] opcode {pkt.opcode} rcode {pkt.rcode}"]
    for section, count_field, items in _sections(pkt):
        count = _count(pkt, count_field, items)
        shown = []
        for item in items:
            if not _is_record(lib, item):
                shown.append(f"{type(item).__name__}({len(bytes(item))} octets)")
            elif section == "question":
                shown.append(f"{_name_text(_scapy_name(item.qname))} {type_text(item.qtype)}")
            else:
                shown.append(
                    f"{_name_text(_scapy_name(item.rrname))} {type_text(item.type)} "
                    f"{_rdata_summary(lib, item)}".rstrip()
                )
        if count or shown:
            parts.append(f"{section} ({count}): " + " | ".join(shown))
    if not isinstance(pkt.payload, lib.NoPayload):
        parts.append(f"then {type(pkt.payload).__name__}({len(bytes(pkt.payload))} octets)")
    line = "; ".join(parts)
    return line if len(line) <= _SUMMARY_LIMIT else line[: _SUMMARY_LIMIT - 3] + "..."


# ---- the comparison ----


class _Comparison:
    """Walks a craft message and a Scapy packet side by side, counting every field."""

    def __init__(self, lib: Scapy) -> None:
        self.lib = lib
        self.diffs: list[Difference] = []
        self.count = 0

    def same(self, field: str, craft: Any, scapy: Any,
             craft_text: str | None = None, scapy_text: str | None = None) -> None:
        self.count += 1
        if craft != scapy:
            self.diffs.append(Difference(
                field,
                craft_text if craft_text is not None else str(craft),
                scapy_text if scapy_text is not None else str(scapy),
            ))

    def missing(self, field: str, craft: str, scapy: str) -> None:
        self.count += 1
        self.diffs.append(Difference(field, craft, scapy))

    def name(self, field: str, craft: Name, scapy_value: Any) -> None:
        scapy = _scapy_name(scapy_value)
        self.same(field, _flat(craft), scapy, craft.to_text(), _name_text(scapy))

    def run(self, message: Message, pkt: Any) -> tuple[tuple[Difference, ...], int]:
        pkt = _dns_layer(self.lib, pkt)
        self.header(message.header, pkt)
        craft_sections: tuple[Sequence[Question | Record], ...] = (
            message.question, message.answer, message.authority, message.additional,
        )
        for (section, count_field, items), ours in zip(_sections(pkt), craft_sections,
                                                       strict=True):
            self.same(f"header.{count_field}", len(ours), _count(pkt, count_field, items))
            for index in range(max(len(ours), len(items))):
                where = f"{section}[{index}]"
                if index >= len(items):
                    self.missing(where, ours[index].to_text(), "(absent)")
                    continue
                item = items[index]
                if index >= len(ours):
                    self.missing(where, "(absent)", _entry_summary(self.lib, item))
                    continue
                if not _is_record(self.lib, item):
                    self.missing(where, ours[index].to_text(), _entry_summary(self.lib, item))
                    continue
                entry = ours[index]
                if isinstance(entry, Question):
                    self.question(where, entry, item)
                else:
                    self.record(where, entry, item)
        return tuple(self.diffs), self.count

    def header(self, header: Header, pkt: Any) -> None:
        for field in _HEADER_FIELDS:
            self.same(f"header.{field}", int(getattr(header, field)),
                      int(pkt.getfieldval(field) or 0))

    def question(self, where: str, q: Question, item: Any) -> None:
        self.name(f"{where}.qname", q.name, item.qname)
        self.same(f"{where}.qtype", q.rtype, int(item.qtype),
                  type_text(q.rtype), type_text(int(item.qtype)))
        qclass = (int(item.unicastresponse or 0) << 15) | int(item.qclass)
        self.same(f"{where}.qclass", q.rclass, qclass, class_text(q.rclass), class_text(qclass))

    def record(self, where: str, rec: Record, rr: Any) -> None:
        self.name(f"{where}.name", rec.name, rr.rrname)
        scapy_type = int(rr.type)
        self.same(f"{where}.type", rec.rtype, scapy_type,
                  type_text(rec.rtype), type_text(scapy_type))
        if rec.rtype != scapy_type:
            return
        if isinstance(rr, self.lib.DNSRROPT) or rec.rtype == RRType.OPT:
            self.opt(where, rec, rr)
            return
        rclass = _class_of(rr)
        self.same(f"{where}.class", rec.rclass, rclass,
                  class_text(rec.rclass), class_text(rclass))
        # RFC 2181 8: a TTL with the top bit set means zero; craft decodes it so.
        scapy_ttl = int(rr.ttl or 0)
        expected = scapy_ttl if scapy_ttl <= TTL_MAX else 0
        self.same(f"{where}.ttl", rec.ttl, expected, scapy_text=str(scapy_ttl))
        self.rdata(f"{where}.rdata", rec.rdata, rr)

    def rdata(self, field: str, rdata: Rdata, rr: Any) -> None:
        names = _field_names(rr)
        if isinstance(rdata, A | AAAA):
            self.address(field, rdata.address, rr.rdata if "rdata" in names else None)
        elif isinstance(rdata, NS | CNAME | PTR):
            self.name(field, rdata.target, rr.rdata if "rdata" in names else None)
        elif isinstance(rdata, TXT):
            scapy = tuple(_as_bytes(s) for s in (rr.rdata or [])) if "rdata" in names else None
            self.same(field, rdata.strings, scapy,
                      " ".join(repr(s) for s in rdata.strings),
                      " ".join(repr(s) for s in scapy or ()) if scapy is not None else "(none)")
        elif isinstance(rdata, MX | SOA | SRV):
            self.fields(field, rdata, rr, names)
        elif isinstance(rdata, MD | MF | DNAME):
            self.name(field, next(iter(_values(rdata))), rr.rdata if "rdata" in names else None)
        else:
            mapped = _SCAPY_FIELDS.get(type(rdata))
            if mapped is not None:
                self.mapped(field, rdata, rr, names, mapped)
            data = rdata.data if isinstance(rdata, Opaque) else _rdata_wire(rdata)
            theirs = _rdata_octets(self.lib, rr)
            if isinstance(rdata, MB | MG | MR | MINFO) and _has_pointer(theirs):
                # Scapy keeps these types' rdata raw, pointers and all (oracle-gaps.md):
                # only the length of what is left to compare is known to agree.
                self.same(f"{field}.compressed", True, len(theirs) <= len(data))
                return
            self.same(field, data, theirs, data.hex() or "(empty)", theirs.hex() or "(empty)")

    def mapped(self, field: str, rdata: Rdata, rr: Any, names: set[str],
               mapped: tuple[tuple[str, str], ...]) -> None:
        """Field by field against a Scapy class of its own (RRSIG, NSEC3, SVCB...)."""
        for ours, theirs in mapped:
            where = f"{field}.{ours}"
            if theirs not in names:
                self.missing(where, str(getattr(rdata, ours)), f"(no field in {type(rr).__name__})")
                continue
            value = getattr(rdata, ours)
            scapy = rr.getfieldval(theirs)
            if isinstance(value, Name):
                self.name(where, value, scapy)
            elif isinstance(value, tuple):
                octets = bitmap_windows(value)
                self.same(where, octets, _as_bytes(scapy or b""), octets.hex(),
                          _as_bytes(scapy or b"").hex())
            elif isinstance(value, bytes):
                got = _as_bytes(scapy or b"")
                self.same(where, value, got, value.hex() or "(empty)", got.hex() or "(empty)")
            else:
                self.same(where, value, int(scapy or 0))

    def fields(self, field: str, rdata: Rdata, rr: Any, names: set[str]) -> None:
        for name, _ in rdata.fields:
            ours = getattr(rdata, name)
            # craft's field names are Scapy's for MX, SOA and SRV.
            if name not in names:
                self.missing(f"{field}.{name}", str(ours), f"(no field in {type(rr).__name__})")
            elif isinstance(ours, Name):
                self.name(f"{field}.{name}", ours, rr.getfieldval(name))
            else:
                self.same(f"{field}.{name}", ours, int(rr.getfieldval(name) or 0))

    def address(self, field: str, ours: str, theirs: Any) -> None:
        try:
            scapy_value: Any = ipaddress.ip_address(theirs)
        except ValueError:
            scapy_value = theirs
        self.same(field, ipaddress.ip_address(ours), scapy_value, ours, str(theirs))

    def opt(self, where: str, rec: Record, rr: Any) -> None:
        if not isinstance(rr, self.lib.DNSRROPT):
            self.missing(f"{where}.edns", "OPT", f"(Scapy class {type(rr).__name__})")
            return
        edns = f"{where}.edns"
        ttl = rec.ttl
        z = int(rr.z or 0)
        self.same(f"{edns}.payload", rec.rclass, int(rr.rclass))
        self.same(f"{edns}.ext_rcode", (ttl >> 24) & 0xFF, int(rr.extrcode))
        self.same(f"{edns}.version", (ttl >> 16) & 0xFF, int(rr.version))
        self.same(f"{edns}.do", (ttl >> 15) & 1, z >> 15)
        self.same(f"{edns}.z", ttl & 0x7FFF, z & 0x7FFF, f"{ttl & 0x7FFF:#06x}",
                  f"{z & 0x7FFF:#06x}")
        ours = rec.rdata.options if isinstance(rec.rdata, OPT) else ()
        theirs = list(rr.rdata or [])
        self.same(f"{edns}.options", len(ours), len(theirs))
        for j, option in enumerate(ours[: len(theirs)]):
            opt = theirs[j]
            field = f"{edns}.option[{j}]"
            code, data = option.code, option.data
            if not _is_record(self.lib, opt):
                self.missing(field, f"{code}:{data.hex()}", f"Raw {bytes(opt).hex()}")
                continue
            self.same(f"{field}.code", code, int(opt.optcode))
            pairs = _SCAPY_OPTION_FIELDS.get(type(opt).__name__)
            if pairs is None or type(option).__name__ != pairs[0]:
                # No Scapy class for this option (NSID, EXPIRE, ...): compare the octets.
                octets = bytes(opt)[4:]
                self.same(f"{field}.data", data, octets, data.hex() or "(empty)",
                          octets.hex() or "(empty)")
                continue
            for ours_name, theirs_name in pairs[1]:
                mine, other = getattr(option, ours_name), opt.getfieldval(theirs_name)
                if ours_name == "address" and getattr(option, "family", 0) not in (1, 2):
                    self.same(f"{field}.{ours_name}", mine, str(other))  # family 0: no address
                elif ours_name == "address":
                    self.address(f"{field}.{ours_name}", mine, other)
                elif isinstance(mine, tuple):
                    self.same(f"{field}.{ours_name}", list(mine), list(other or []))
                elif isinstance(mine, str | bytes):
                    ours_b = mine.encode() if isinstance(mine, str) else mine
                    theirs_b = _as_bytes(other)
                    self.same(f"{field}.{ours_name}", ours_b, theirs_b, repr(ours_b), repr(theirs_b))
                else:
                    self.same(f"{field}.{ours_name}", mine, int(other or 0))


# Scapy's class for an EDNS option -> craft's class and (craft field, Scapy field) pairs.
_SCAPY_OPTION_FIELDS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "EDNS0DAU": ("DAU", (("algorithms", "alg_code"),)),
    "EDNS0DHU": ("DHU", (("algorithms", "alg_code"),)),
    "EDNS0N3U": ("N3U", (("algorithms", "alg_code"),)),
    "EDNS0ClientSubnet": ("ClientSubnet", (("family", "family"), ("source", "source_plen"),
                                           ("scope", "scope_plen"), ("address", "address"))),
    "EDNS0COOKIE": ("Cookie", (("client", "client_cookie"), ("server", "server_cookie"))),
    "EDNS0PADDING": ("Padding", (("padding", "padding"),)),
    "EDNS0ExtendedDNSError": ("ExtendedError", (("info_code", "info_code"),
                                                ("text", "extra_text"))),
}


def _class_of(rr: Any) -> int:
    top = rr.getfieldval("cacheflush") if "cacheflush" in _field_names(rr) else 0
    return (int(top or 0) << 15) | int(rr.rclass)


def _entry_summary(lib: Scapy, item: Any) -> str:
    if not _is_record(lib, item):
        return f"undecoded {type(item).__name__} {bytes(item).hex()}"
    return str(item.summary())
