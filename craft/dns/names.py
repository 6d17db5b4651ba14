"""Domain names as values: labels, presentation text and comparison keys.

A ``Name`` keeps its labels exactly as they arrived (case included) so a server can echo a
question byte for byte; ``key`` gives the case-insensitive identity used for lookups
(RFC 4343). Text form follows RFC 1035 5.1: ``.`` and ``\\`` escaped, other odd bytes as
``\\DDD``.
"""

from __future__ import annotations

from dataclasses import dataclass

from craft.errors import CraftError

MAX_LABEL = 63
MAX_NAME = 255

_PLAIN = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*/+=!#$%&'^`{|}~,:<>?[]"
)
# ASCII-only case folding (RFC 4343): bytes.translate with this table lower-cases a label.
LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


class BadNameError(CraftError, ValueError):
    """A name's text or labels break RFC 1035 limits; ``reason`` says which."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"bad name {text!r}", reason)
        self.text = text


@dataclass(frozen=True, slots=True)
class Name:
    """An absolute domain name; ``labels`` excludes the root label."""

    labels: tuple[bytes, ...]

    @classmethod
    def root(cls) -> Name:
        return _ROOT

    @classmethod
    def from_text(cls, text: str, origin: Name | None = None) -> Name:
        """Parse presentation form. Names without a trailing dot are relative to ``origin``
        (or to the root when there is none); ``@`` is the origin itself."""
        if text == "@":
            return origin if origin is not None else _ROOT
        if text == ".":
            return _ROOT
        labels: list[bytes] = []
        current = bytearray()
        absolute = False
        i = 0
        raw = text.encode("utf-8")
        n = len(raw)
        while i < n:
            c = raw[i]
            if c == 0x5C:  # backslash escape: \DDD or \X
                if i + 1 >= n:
                    raise BadNameError(text, "dangling escape")
                if raw[i + 1 : i + 4].isdigit() and len(raw[i + 1 : i + 4]) == 3:
                    value = int(raw[i + 1 : i + 4])
                    if value > 255:
                        raise BadNameError(text, f"escape \\{value} out of range")
                    current.append(value)
                    i += 4
                else:
                    current.append(raw[i + 1])
                    i += 2
                continue
            if c == 0x2E:
                if not current:
                    raise BadNameError(text, "empty label")
                labels.append(bytes(current))
                current = bytearray()
                if i == n - 1:
                    absolute = True
                i += 1
                continue
            current.append(c)
            i += 1
        if current:
            labels.append(bytes(current))
        elif not absolute and labels:
            raise BadNameError(text, "empty label")
        if not absolute and origin is not None:
            labels.extend(origin.labels)
        name = cls(tuple(labels))
        name.check()
        return name

    def check(self) -> None:
        """Raise ``BadNameError`` when a label or the whole name is over the RFC 1035 limits."""
        for label in self.labels:
            if not label:
                raise BadNameError(self.to_text(), "empty label")
            if len(label) > MAX_LABEL:
                raise BadNameError(self.to_text(), f"label of {len(label)} octets (max {MAX_LABEL})")
        if self.wire_length() > MAX_NAME:
            raise BadNameError(self.to_text(), f"{self.wire_length()} octets (max {MAX_NAME})")

    def wire_length(self) -> int:
        return sum(len(label) + 1 for label in self.labels) + 1

    def to_wire(self) -> bytes:
        """Uncompressed wire form."""
        out = bytearray()
        for label in self.labels:
            out.append(len(label))
            out += label
        out.append(0)
        return bytes(out)

    @property
    def key(self) -> bytes:
        """Case-insensitive identity: the lower-cased uncompressed wire form."""
        return self.to_wire().translate(LOWER)

    def lower(self) -> Name:
        return Name(tuple(label.translate(LOWER) for label in self.labels))

    def is_subdomain_of(self, other: Name) -> bool:
        n = len(other.labels)
        if n == 0:
            return True
        if len(self.labels) < n:
            return False
        return all(
            a.translate(LOWER) == b.translate(LOWER)
            for a, b in zip(self.labels[-n:], other.labels, strict=True)
        )

    def parent(self) -> Name:
        return Name(self.labels[1:])

    def to_text(self) -> str:
        if not self.labels:
            return "."
        return "".join(_label_text(label) + "." for label in self.labels)

    def __str__(self) -> str:
        return self.to_text()

    def equals(self, other: Name) -> bool:
        """Case-insensitive equality (``==`` stays exact, so echoed case is observable)."""
        return self.key == other.key


def _label_text(label: bytes) -> str:
    parts: list[str] = []
    for b in label:
        if b in _PLAIN:
            parts.append(chr(b))
        elif b in (0x2E, 0x5C, 0x22, 0x28, 0x29, 0x3B, 0x40, 0x24):
            parts.append("\\" + chr(b))
        else:
            parts.append(f"\\{b:03d}")
    return "".join(parts)


_ROOT = Name(())
