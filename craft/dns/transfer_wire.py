"""The octets of a zone transfer's messages, written fast: ``TransferWriter`` cuts records
into messages of at most ``MESSAGE_BUDGET`` octets of records, each owner name compressed
against the names already in its message (RFC 5936 2.2 leaves compression to the sender,
RFC 1035 4.1.4), and writes runs of A and TXT records that share type, class, TTL and the
owner's parent (most of a zone of millions) a message's worth at a time: the first record
of a run in a message spells the parent out, the others point at it, and one
``bytes.join`` writes them. Anything else is written by ``craft.dns.codec.record_wire``,
so it is written (or refused) exactly as the codec does. ``craft.dns.transfer`` decides
which records a transfer sends; this module writes them.
"""

from __future__ import annotations

import itertools
import struct
from bisect import bisect_right
from collections.abc import Callable, Generator, Iterable, Iterator
from itertools import repeat
from operator import add
from typing import cast

from craft.dns.codec import record_wire
from craft.dns.message import Record
from craft.dns.names import MAX_LABEL, MAX_NAME, Name
from craft.dns.rdata import TXT, A
from craft.dns.wire import HEADER, HEADER_SIZE

MESSAGE_BUDGET = 16384  # octets of records per message: well under 64 KiB, kind to readers
RUN = 4096  # records gathered into one run at most (memory stays flat)
PREFIX_MEMO = 16384  # addresses' first three octets kept packed (a few MB at most)
POINTER_LIMIT = 0x3FFF  # a compression pointer has 14 bits of offset

_POINTER = struct.Struct("!H")
_HEAD = struct.Struct("!HHI")  # type, class, TTL
_U16 = struct.Struct("!H").pack
_LENGTH_OCTET = [bytes((size,)) for size in range(256)]
# The length octet of each length a label may have (0 and over 63 are the codec's).
_LABEL_OCTET = {size: bytes((size,)) for size in range(1, MAX_LABEL + 1)}
# The canonical spelling of each octet (no leading zero): any other is not in here.
_OCTETS = {str(value): bytes((value,)) for value in range(256)}
_A_FIXED = 1 + 2 + _HEAD.size + 2 + 4  # octets of an A record of a run but its first label
_TXT_FIXED = 1 + 2 + _HEAD.size + 2  # the same for TXT, but its character-strings

Labels = tuple[bytes, ...]
# A run's layout: where each record ends (octets from the run's start), and the writer of
# records i to i+m given the middle they share.
Layout = tuple[list[int], Callable[[int, int, bytes], bytes]]
Writing = Generator[bytes, None, Record | None]  # yields messages, returns the next record


def _wire_length(labels: Labels) -> int:
    return sum(map(len, labels)) + len(labels) + 1


class TransferWriter:
    """Writes the messages of one transfer: ``first`` is the header and question of the
    first message (``question`` the name in it, for owners to point at), ``later`` the
    header of the rest (RFC 5936 2.2: the question may be left out after the first), ``opt``
    the OPT record every message ends with (empty when none)."""

    def __init__(self, first: bytes, later: bytes, opt: bytes, question: Name | None,
                 budget: int = MESSAGE_BUDGET) -> None:
        self.later, self.opt, self.budget = later, opt, budget
        self.head = first
        self.parts: list[bytes] = []
        self.size = 0  # octets of records in the message so far
        self.count = 0
        # Each name written in this message, exactly as spelled (a transfer gives the
        # secondary the zone's own spelling, so no case-blind match), and where it starts.
        self.names: dict[Labels, int] = {}
        self.prefixes: dict[str, bytes | None] = {}  # None: not canonical
        if question is not None:
            self._remember(question.labels, len(question.labels), HEADER_SIZE)

    def messages(self, records: Iterable[Record]) -> Iterator[bytes]:
        """The messages holding ``records`` in order; the last one even when it is empty."""
        stream = iter(records)
        record = next(stream, None)
        while record is not None:
            kind = type(record.rdata)
            # Runs under a parent other than the root: there, the root's own name would
            # share the parent () with its children while having no first label.
            if kind is A and len(record.name.labels) > 1:
                record = yield from self._a_run(record, stream)
            elif kind is TXT and len(record.name.labels) > 1:
                record = yield from self._txt_run(record, stream)
            else:
                yield from self._one(record)
                record = next(stream, None)
        yield self._flush()

    def _a_run(self, first: Record, stream: Iterator[Record]) -> Writing:
        """``first`` and the A records after it alike (type, class, TTL, owner's parent),
        up to ``RUN``; returns the record that ends the run. An address is its first three
        octets, packed once for all the addresses that share them, and the last."""
        labels = first.name.labels
        parent, rtype, rclass, ttl = labels[1:], first.rtype, first.rclass, first.ttl
        run: list[Record] = []
        firsts: list[bytes] = []
        heads: list[bytes | None] = []
        lasts: list[bytes | None] = []
        memo = self.prefixes
        known = memo.get
        octet = _OCTETS.get
        add_record, add_first, add_head, add_last = run.append, firsts.append, heads.append, lasts.append
        following = None
        for record in itertools.chain((first,), itertools.islice(stream, RUN - 1)):
            rdata = record.rdata
            labels = record.name.labels
            if (type(rdata) is not A or labels[1:] != parent or record.ttl != ttl
                    or record.rtype != rtype or record.rclass != rclass):
                following = record
                break
            add_record(record)
            add_first(labels[0])
            prefix, _, last = rdata.address.rpartition(".")
            head = known(prefix)
            if head is None:
                if len(memo) >= PREFIX_MEMO:
                    memo.clear()
                head = memo[prefix] = _three_octets(prefix)
            add_head(head)
            add_last(octet(last))
        else:
            following = next(stream, None)
        sizes = list(map(len, firsts))
        lengths = _label_lengths(run, sizes)
        if lengths is None or None in heads or None in lasts:
            # An odd owner, or not a canonical dotted quad: the codec says what is wrong.
            yield from self._each(run)
            return following
        octets = cast(list[bytes], heads), cast(list[bytes], lasts)  # no None in them: seen

        def write(i: int, m: int, middle: bytes) -> bytes:
            pieces = [middle] * (5 * m)
            pieces[0::5] = lengths[i:i + m]
            pieces[1::5] = firsts[i:i + m]
            pieces[3::5] = octets[0][i:i + m]
            pieces[4::5] = octets[1][i:i + m]
            return b"".join(pieces)

        ends = list(itertools.accumulate(map(add, sizes, repeat(_A_FIXED)), initial=0))
        middle = _head(rtype, rclass, ttl) + b"\x00\x04"
        yield from self._place(run, (ends, write), middle)
        return following

    def _txt_run(self, first: Record, stream: Iterator[Record]) -> Writing:
        """As ``_a_run`` for TXT records: each one's rdata is its character-strings. (The
        gathering loop is ``_a_run``'s, written out again: it runs once a record, and a
        call a record to share it would cost more than the rest of the loop.)"""
        labels = first.name.labels
        parent, rtype, rclass, ttl = labels[1:], first.rtype, first.rclass, first.ttl
        run: list[Record] = []
        firsts: list[bytes] = []
        strings: list[tuple[bytes, ...]] = []
        following = None
        for record in itertools.chain((first,), itertools.islice(stream, RUN - 1)):
            rdata = record.rdata
            labels = record.name.labels
            if (type(rdata) is not TXT or labels[1:] != parent or record.ttl != ttl
                    or record.rtype != rtype or record.rclass != rclass):
                following = record
                break
            run.append(record)
            firsts.append(labels[0])
            strings.append(rdata.strings)
        else:
            following = next(stream, None)
        sizes = list(map(len, firsts))
        lengths = _label_lengths(run, sizes)
        layout = None if lengths is None else _strings(strings, firsts, sizes, lengths)
        if layout is None:
            yield from self._each(run)
        else:
            yield from self._place(run, layout, _head(rtype, rclass, ttl))
        return following

    def _place(self, run: list[Record], layout: Layout, middle: bytes) -> Iterator[bytes]:
        """Put a run's records into messages: in each message the first of them through
        ``_one`` (it spells the parent out), as many as fit after it by ``write``."""
        ends, write = layout
        parent = run[0].name.labels[1:]
        i, n = 0, len(run)
        while i < n:
            at = self.names.get(parent)
            if at is None:
                yield from self._one(run[i])
                i += 1
                continue
            m = bisect_right(ends, ends[i] + self.budget - self.size, i) - 1 - i
            if m <= 0:  # not even one more: the next message
                yield self._flush()
                continue
            self.parts.append(write(i, m, _POINTER.pack(0xC000 | at) + middle))
            self.size += ends[i + m] - ends[i]
            self.count += m
            i += m
            if i < n:
                yield self._flush()

    def _each(self, records: list[Record]) -> Iterator[bytes]:
        for record in records:
            yield from self._one(record)

    def _one(self, record: Record) -> Iterator[bytes]:
        """One record through the codec, its owner then compressed."""
        wire = record_wire(record)
        labels = record.name.labels
        rest = wire[_wire_length(labels):]
        owner, spelled = self._owner(labels)
        if self.count and self.size + len(owner) + len(rest) > self.budget:
            yield self._flush()
            owner, spelled = self._owner(labels)
        self._remember(labels, spelled, len(self.head) + self.size)
        self.parts.append(owner + rest)
        self.size += len(owner) + len(rest)
        self.count += 1

    def _owner(self, labels: Labels) -> tuple[bytes, int]:
        """``labels`` written against this message's names: the wire form and how many
        leading labels are spelled out (the rest is a pointer, or the root)."""
        names = self.names
        for spelled in range(len(labels)):
            at = names.get(labels[spelled:])
            if at is not None:
                head = b"".join(_LENGTH_OCTET[len(label)] + label for label in labels[:spelled])
                return head + _POINTER.pack(0xC000 | at), spelled
        return Name(labels).to_wire(), len(labels)

    def _remember(self, labels: Labels, spelled: int, at: int) -> None:
        """The suffixes of ``labels`` spelled out at ``at``, for later names to point at."""
        names = self.names
        for i in range(spelled):
            if at > POINTER_LIMIT:
                return
            names.setdefault(labels[i:], at)
            at += 1 + len(labels[i])

    def _flush(self) -> bytes:
        head = self.head
        ident, flags, qd, _, _, _ = HEADER.unpack_from(head)
        message = b"".join((HEADER.pack(ident, flags, qd, self.count, 0, 1 if self.opt else 0),
                            head[HEADER_SIZE:], *self.parts, self.opt))
        self.head = self.later
        self.parts, self.size, self.count, self.names = [], 0, 0, {}
        return message


def _head(rtype: int, rclass: int, ttl: int) -> bytes:
    """Type, class and TTL as the codec writes them (each cut to its field's width)."""
    return _HEAD.pack(rtype & 0xFFFF, rclass & 0xFFFF, ttl & 0xFFFFFFFF)


def _three_octets(prefix: str) -> bytes | None:
    """The first three octets of a canonical dotted quad, or None."""
    parts = prefix.split(".")
    if len(parts) != 3 or not all(part in _OCTETS for part in parts):
        return None
    return b"".join(map(_OCTETS.__getitem__, parts))


def _label_lengths(run: list[Record], sizes: list[int]) -> list[bytes] | None:
    """The length octets of a run's first labels, or None when the run is better left to
    ``_one``: a single record, an empty or over-long label, a name over 255 octets."""
    if len(run) < 2:
        return None
    try:
        lengths = list(map(_LABEL_OCTET.__getitem__, sizes))
    except KeyError:
        return None
    parent = _wire_length(run[0].name.labels[1:])
    if parent + 1 + MAX_LABEL > MAX_NAME and parent + 1 + max(sizes) > MAX_NAME:
        return None
    return lengths


def _strings(strings: list[tuple[bytes, ...]], firsts: list[bytes], sizes: list[int],
             lengths: list[bytes]) -> Layout | None:
    """How to write a run of TXT records: length octet, label, the middle (pointer, type,
    class, TTL), RDLENGTH, and the character-strings, each its length octet and octets.
    When every record has the same number of strings (the usual), the pieces are laid out
    by slices; otherwise each rdata is joined on its own. None when a string is over 255
    octets or there is none (the codec's to refuse or write)."""
    counts = set(map(len, strings))
    if len(counts) != 1:
        return _joined_strings(strings, firsts, sizes, lengths)
    each = counts.pop()
    flat = list(itertools.chain.from_iterable(strings))
    octets = list(map(len, flat))
    if not each or max(octets) > 255:
        return None
    marks = list(map(_LENGTH_OCTET.__getitem__, octets))
    totals = octets[0::each]
    for j in range(1, each):
        totals = list(map(add, totals, octets[j::each]))
    rdlengths = list(map(_U16, map(add, totals, repeat(each))))  # at most 255 * 256 + 255
    stride = 4 + 2 * each

    def write(i: int, m: int, middle: bytes) -> bytes:
        pieces = [middle] * (stride * m)
        pieces[0::stride] = lengths[i:i + m]
        pieces[1::stride] = firsts[i:i + m]
        pieces[3::stride] = rdlengths[i:i + m]
        for j in range(each):
            pieces[4 + 2 * j::stride] = marks[i * each + j:(i + m) * each:each]
            pieces[5 + 2 * j::stride] = flat[i * each + j:(i + m) * each:each]
        return b"".join(pieces)

    ends = list(itertools.accumulate(map(add, map(add, sizes, totals), repeat(_TXT_FIXED + each)),
                                     initial=0))
    return ends, write


def _joined_strings(strings: list[tuple[bytes, ...]], firsts: list[bytes], sizes: list[int],
                    lengths: list[bytes]) -> Layout | None:
    """``_strings`` for a run whose records hold different numbers of strings."""
    try:
        datas = [b"".join([_LENGTH_OCTET[len(s)] + s for s in each]) for each in strings]
    except IndexError:  # a string over 255 octets
        return None
    if not all(datas) or max(map(len, datas)) > 0xFFFF:
        return None
    tails = list(map(add, map(_U16, map(len, datas)), datas))

    def write(i: int, m: int, middle: bytes) -> bytes:
        pieces = [middle] * (4 * m)
        pieces[0::4] = lengths[i:i + m]
        pieces[1::4] = firsts[i:i + m]
        pieces[3::4] = tails[i:i + m]
        return b"".join(pieces)

    ends = list(itertools.accumulate(map(add, map(add, sizes, map(len, tails)),
                                         repeat(_TXT_FIXED - 2)), initial=0))
    return ends, write
