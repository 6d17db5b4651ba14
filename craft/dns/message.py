"""The DNS message model: immutable values for header, question, records and EDNS.

Nothing here touches bytes; ``craft.dns.codec`` turns these values into wire data and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from craft.dns.constants import RRClass, RRType, class_text, opcode_text, rcode_text, type_text
from craft.dns.edns import EdnsOption, option_lines
from craft.dns.names import Name
from craft.dns.rdata import OPT, Rdata

SECTIONS = ("question", "answer", "authority", "additional")


@dataclass(frozen=True, slots=True)
class Header:
    """The 12-octet header less the counts (the encoder derives those from the sections).

    ``rcode`` is the low four bits carried here; the full value of an EDNS message is
    ``Message.rcode``.
    """

    id: int = 0
    qr: bool = False
    opcode: int = 0
    aa: bool = False
    tc: bool = False
    rd: bool = False
    ra: bool = False
    z: bool = False
    ad: bool = False
    cd: bool = False
    rcode: int = 0

    @property
    def flags(self) -> int:
        return (
            (self.qr << 15)
            | ((self.opcode & 0xF) << 11)
            | (self.aa << 10)
            | (self.tc << 9)
            | (self.rd << 8)
            | (self.ra << 7)
            | (self.z << 6)
            | (self.ad << 5)
            | (self.cd << 4)
            | (self.rcode & 0xF)
        )

    @classmethod
    def from_flags(cls, id: int, flags: int) -> Header:
        return cls(
            id=id,
            qr=bool(flags & 0x8000),
            opcode=(flags >> 11) & 0xF,
            aa=bool(flags & 0x0400),
            tc=bool(flags & 0x0200),
            rd=bool(flags & 0x0100),
            ra=bool(flags & 0x0080),
            z=bool(flags & 0x0040),
            ad=bool(flags & 0x0020),
            cd=bool(flags & 0x0010),
            rcode=flags & 0xF,
        )

    def flag_names(self) -> list[str]:
        names = ("qr", "aa", "tc", "rd", "ra", "z", "ad", "cd")
        return [n for n in names if getattr(self, n)]

    def describe(self) -> str:
        flags = " ".join(self.flag_names()) or "none"
        return f"{flags}; opcode {opcode_text(self.opcode)}; rcode {rcode_text(self.rcode)}"


@dataclass(frozen=True, slots=True)
class Question:
    name: Name
    rtype: int = RRType.A
    rclass: int = RRClass.IN

    def to_text(self) -> str:
        return f"{self.name.to_text()} {class_text(self.rclass)} {type_text(self.rtype)}"


@dataclass(frozen=True, slots=True)
class Record:
    """A resource record. For OPT, ``rclass`` is the UDP payload size and ``ttl`` packs the
    extended RCODE, version and flags (RFC 6891 6.1.3); ``Edns`` reads them."""

    name: Name
    rtype: int
    rclass: int
    ttl: int
    rdata: Rdata

    @classmethod
    def make(cls, name: Name, ttl: int, rdata: Rdata, rclass: int = RRClass.IN) -> Record:
        return cls(name, rdata.rtype, rclass, ttl, rdata)

    def to_text(self) -> str:
        if self.rtype == RRType.OPT:
            return Edns.from_record(self).to_text()
        rdata = self.rdata.to_text()
        return (
            f"{self.name.to_text()} {self.ttl} {class_text(self.rclass)} "
            f"{type_text(self.rtype)} {rdata}"
        ).rstrip()


@dataclass(frozen=True, slots=True)
class Edns:
    """The OPT pseudo-record as values: payload size, extended RCODE bits, version, flags,
    and the options (typed by ``craft.dns.edns``)."""

    payload: int = 1232
    ext_rcode: int = 0
    version: int = 0
    do: bool = False
    flags: int = 0  # the other 15 flag bits, which must be zero today
    options: tuple[EdnsOption, ...] = ()

    @classmethod
    def from_record(cls, record: Record) -> Edns:
        ttl = record.ttl
        options = record.rdata.options if isinstance(record.rdata, OPT) else ()
        return cls(
            payload=record.rclass,
            ext_rcode=(ttl >> 24) & 0xFF,
            version=(ttl >> 16) & 0xFF,
            do=bool(ttl & 0x8000),
            flags=ttl & 0x7FFF,
            options=options,
        )

    def to_record(self) -> Record:
        ttl = (self.ext_rcode << 24) | (self.version << 16) | (self.do << 15) | self.flags
        return Record(Name.root(), RRType.OPT, self.payload, ttl, OPT(self.options))

    def option(self, kind: type[EdnsOption]) -> EdnsOption | None:
        """The first option of class ``kind`` (e.g. ``Cookie``), or None."""
        return next((o for o in self.options if isinstance(o, kind)), None)

    def to_text(self, sent: tuple[EdnsOption, ...] = ()) -> str:
        """dig's OPT PSEUDOSECTION: the EDNS line, then one line per option (``sent``: the
        query's options, so a returned COOKIE can be called good or bad)."""
        flags = " do" if self.do else ""
        extra = f"; MBZ: {self.flags:#06x}" if self.flags else ""
        lines = [f"; EDNS: version: {self.version}, flags:{flags}{extra}; udp: {self.payload}"]
        return "\n".join(lines + option_lines(self.options, sent))


@dataclass(frozen=True, slots=True)
class Message:
    header: Header = field(default_factory=Header)
    question: tuple[Question, ...] = ()
    answer: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()
    additional: tuple[Record, ...] = ()

    @property
    def edns(self) -> Edns | None:
        for record in self.additional:
            if record.rtype == RRType.OPT:
                return Edns.from_record(record)
        return None

    @property
    def rcode(self) -> int:
        """The full RCODE: the header's four bits plus the OPT record's upper eight."""
        edns = self.edns
        return self.header.rcode | ((edns.ext_rcode << 4) if edns else 0)

    def with_edns(self, edns: Edns | None) -> Message:
        """A copy whose additional section carries ``edns`` (or no OPT when None)."""
        others = tuple(r for r in self.additional if r.rtype != RRType.OPT)
        additional = others + ((edns.to_record(),) if edns is not None else ())
        return replace(self, additional=additional)

    def sections(self) -> tuple[tuple[str, tuple[Record, ...]], ...]:
        return (("answer", self.answer), ("authority", self.authority),
                ("additional", self.additional))

    def to_text(self) -> str:
        """A dig-like rendering of the whole message."""
        h = self.header
        lines = [
            f";; opcode: {opcode_text(h.opcode)}, status: {rcode_text(self.rcode)}, id: {h.id}",
            f";; flags: {' '.join(h.flag_names())}; QUERY: {len(self.question)}, "
            f"ANSWER: {len(self.answer)}, AUTHORITY: {len(self.authority)}, "
            f"ADDITIONAL: {len(self.additional)}",
        ]
        edns = self.edns
        if edns is not None:
            lines.append(";; OPT PSEUDOSECTION:")
            lines.append(edns.to_text())
        lines.append(";; QUESTION SECTION:")
        lines.extend(f";{q.to_text()}" for q in self.question)
        for title, records in self.sections():
            shown = [r for r in records if r.rtype != RRType.OPT]
            if shown:
                lines.append(f";; {title.upper()} SECTION:")
                lines.extend(r.to_text() for r in shown)
        return "\n".join(lines)


def record_dict(record: Record) -> dict[str, object]:
    if record.rtype == RRType.OPT:
        e = Edns.from_record(record)
        return {
            "type": "OPT", "udp_payload": e.payload, "ext_rcode": e.ext_rcode,
            "version": e.version, "do": e.do, "flags": e.flags,
            "options": [option.to_dict() for option in e.options],
        }
    return {
        "name": record.name.to_text(), "type": type_text(record.rtype),
        "class": class_text(record.rclass), "ttl": record.ttl, "rdata": record.rdata.to_text(),
        "fields": record.rdata.to_dict(),
    }


def fold_case(message: Message) -> Message:
    """``message`` with every name (owners, questions, names inside rdata) lower-cased: what
    stays when compression gives a name an earlier equal name's case (RFC 4343: the same
    name), as craft's encoder may."""

    def fold(value: object) -> object:
        if isinstance(value, Name):
            return value.lower()
        if isinstance(value, tuple) and any(isinstance(item, Name) for item in value):
            return tuple(fold(item) for item in value)  # HIP's rendezvous servers
        return value

    def rdata(value: Rdata) -> Rdata:
        changes = {f.name: folded for f in fields(value)
                   if (folded := fold(getattr(value, f.name))) is not getattr(value, f.name)}
        return replace(value, **changes) if changes else value

    def record(rec: Record) -> Record:
        return replace(rec, name=rec.name.lower(), rdata=rdata(rec.rdata))

    return replace(
        message,
        question=tuple(replace(q, name=q.name.lower()) for q in message.question),
        answer=tuple(map(record, message.answer)),
        authority=tuple(map(record, message.authority)),
        additional=tuple(map(record, message.additional)),
    )


def message_dict(message: Message) -> dict[str, object]:
    """A JSON-ready view of a message (header, sections, full RCODE)."""
    h = message.header
    return {
        "header": {
            "id": h.id, "opcode": opcode_text(h.opcode), "rcode": rcode_text(message.rcode),
            "flags": h.flag_names(),
        },
        "question": [
            {"name": q.name.to_text(), "type": type_text(q.rtype), "class": class_text(q.rclass)}
            for q in message.question
        ],
        **{title: [record_dict(r) for r in records] for title, records in message.sections()},
    }
