#!/usr/bin/env python3
"""Fuzzing craft's servers and verify: random and mutated input, bounded and seeded.

  fuzz.py dns  --count N   UDP datagrams and TCP streams at a fresh `craft dns-serve`
  fuzz.py web  --count N   malformed and hostile HTTP requests at a fresh `craft web-serve`
  fuzz.py pcap --count N   corrupted captures through `craft verify`

Each run starts its own server on 127.0.0.1 (port 0), stops it at the end, and exits 1 on
the first broken promise: a crash, a reply that craft or dnspython (every reply) or Scapy
(every --oracle-every'th) cannot decode, a reply over the size the query allowed, an HTTP
response h11 refuses, a file from outside the web root, a traceback, or no answer to a
valid query after the storm.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import dns.message  # noqa: E402
import dns.tsig  # noqa: E402
import h11  # noqa: E402

from craft.dns.codec import decode, encode  # noqa: E402
from craft.dns.message import Edns  # noqa: E402
from craft.dns.names import Name  # noqa: E402
from craft.dns.wire import WireError  # noqa: E402
from craft.dns_client import build_query  # noqa: E402
from craft.http.protocol import HttpError, Request, parse_head, parse_request  # noqa: E402
from craft.oracle import check  # noqa: E402

NAMES = ["google.com.", "GOOGLE.ca.", "youtube.com.", "nope.amazon.ca.", "example.org.",
         "a.b.c.wikipedia.org.", "uwaterloo.ca."]
TYPES = [1, 2, 5, 6, 15, 16, 28, 255, 65280, 252, 251]


class Failure(Exception):
    pass


def start(args: list[str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, "-m", "craft", *args], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r"127\.0\.0\.1:(\d+)", line)
    if not match:
        proc.kill()
        raise Failure(f"server did not start: {line!r}")
    return proc, int(match.group(1))


def stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=5)
        raise Failure("server did not stop on SIGTERM") from None
    if proc.returncode != 0 or "Traceback" in err:
        raise Failure(f"server exited {proc.returncode}: {err[-500:]}")
    return err


def seeds(rng: random.Random) -> list[bytes]:
    out = []
    for name in NAMES:
        for rtype in TYPES:
            edns = Edns(payload=rng.choice([512, 1232, 4096])) if rng.random() < 0.5 else None
            out.append(encode(build_query(Name.from_text(name), rtype, edns=edns,
                                          rd=rng.random() < 0.5)))
    return out


def mutated(rng: random.Random, corpus: list[bytes]) -> bytes:
    data = bytearray(rng.choice(corpus))
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(10)
        if kind == 0 and data:  # flip bits
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif kind == 1 and data:  # random octet
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 2 and len(data) > 1:  # truncate
            del data[rng.randrange(1, len(data)):]
        elif kind == 3:  # trailing garbage
            data += os.urandom(rng.randint(1, 64))
        elif kind == 4 and len(data) >= 12:  # lying counts
            struct.pack_into("!H", data, 4 + 2 * rng.randrange(4), rng.choice([0, 1, 2, 255, 65535]))
        elif kind == 5 and len(data) > 14:  # pointer loops and forward pointers
            at = rng.randrange(12, len(data) - 1)
            data[at:at + 2] = struct.pack("!H", 0xC000 | rng.choice([at, at + 2, 4, 12]))
        elif kind == 6 and len(data) > 13:  # huge label
            data[12:12] = bytes([rng.choice([63, 64, 127, 192])]) + b"x" * 63
        elif kind == 7:  # oversized
            data += bytes(rng.randint(600, 3000))
        elif kind == 8 and len(data) >= 4:  # another opcode, any flags (QR clear: a query)
            data[2] = (rng.randrange(16) << 3) | rng.randrange(8)
            data[3] = rng.randrange(256)
        else:  # pure noise
            data = bytearray(os.urandom(rng.randint(0, 100)))
    return bytes(data)


def _reply_to(sock: socket.socket, query: bytes) -> bytes | None:
    """The reply carrying the query's ID; stray late ones are skipped."""
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            reply = sock.recv(65535)
        except TimeoutError:
            return None
        if reply[:2] == query[:2]:
            return reply
    return None


def _any_key(_message: object, name: object) -> dns.tsig.Key:
    """A key for whatever TSIG a reply carries: craft's only signed replies are BADKEY
    errors (RFC 8945 5.2.1), which dnspython reads and then reports as the peer's error."""
    return dns.tsig.Key(name, b"\0" * 32, dns.tsig.HMAC_SHA256)  # type: ignore[arg-type]


def dnspython_refusal(reply: bytes) -> str | None:
    """Why dnspython refuses to parse ``reply`` (None: it parses)."""
    try:
        dns.message.from_wire(reply, keyring=_any_key)
    except dns.tsig.PeerError:
        return None  # parsed whole; the TSIG error it carries (BADKEY) is the peer's word
    except Exception as exc:  # any refusal is the finding
        return repr(exc)
    return None


def allowed_size(query: bytes) -> int:
    try:
        edns = decode(query).edns
    except WireError:
        return 512
    return max(512, edns.payload) if edns is not None else 512


def judge_reply(query: bytes, reply: bytes, transport: str, oracle: bool) -> None:
    try:
        decode(reply)
    except WireError as exc:
        raise Failure(f"craft cannot decode a reply to {query.hex()}: {exc}") from None
    refusal = dnspython_refusal(reply)
    if refusal is not None:
        raise Failure(f"dnspython refuses the reply {reply.hex()} to {query.hex()}: {refusal}")
    if transport == "udp" and len(reply) > allowed_size(query):
        raise Failure(f"{len(reply)}-octet reply over the limit for {query.hex()}")
    if oracle:
        verdict = check(reply)
        if verdict.craft_error is not None or verdict.scapy_error is not None:
            raise Failure(f"Scapy and craft on reply {reply.hex()}: {verdict.describe()}")


def valid_answer(port: int) -> None:
    query = encode(build_query(Name.from_text("google.com."), ident=77))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(query, ("127.0.0.1", port))
        reply = decode(sock.recv(4096))
    if len(reply.answer) != 2:
        raise Failure("no proper answer after the storm (UDP)")
    with socket.create_connection(("127.0.0.1", port), timeout=2) as tcp:
        tcp.sendall(struct.pack("!H", len(query)) + query)
        head = tcp.recv(2, socket.MSG_WAITALL)
        if len(decode(tcp.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)).answer) != 2:
            raise Failure("no proper answer after the storm (TCP)")


def fuzz_dns(count: int, seed: int, oracle_every: int) -> str:
    rng = random.Random(seed)
    corpus = seeds(rng)
    proc, port = start(["dns-serve", "--port", "0", "--quiet"])
    replies = dropped = tcp_streams = 0
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.5)
            for i in range(count):
                if i % 200 == 199:  # a TCP stream now and then
                    tcp_streams += 1
                    fuzz_tcp(port, rng, corpus, oracle=i % oracle_every == 0)
                    continue
                query = mutated(rng, corpus)
                sock.sendto(query, ("127.0.0.1", port))
                if len(query) < 12 or query[2] & 0x80:
                    dropped += 1  # no header, or a response: dropped by design (RFC 1035 7.3)
                    continue
                reply = _reply_to(sock, query)
                if reply is None:
                    raise Failure(f"no reply to a query with a readable header: {query.hex()}")
                replies += 1
                judge_reply(query, reply, "udp", oracle=i % oracle_every == 0)
        valid_answer(port)
    finally:
        if proc.poll() is None:
            stop(proc)
        elif proc.returncode != 0:
            raise Failure(f"the server died with {proc.returncode}")
    return (f"dns: {count} inputs ({tcp_streams} TCP streams), {replies} replies all decodable and within size "
            f"(craft and dnspython), {dropped} dropped, server answered after the storm")


def fuzz_tcp(port: int, rng: random.Random, corpus: list[bytes], oracle: bool) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        stream = b""
        for _ in range(rng.randint(1, 5)):
            message = mutated(rng, corpus)
            prefix = len(message) + rng.choice([0, 0, 0, -1, 1, 1000])
            stream += struct.pack("!H", max(0, min(prefix, 65535))) + message
        if rng.random() < 0.2:
            stream = stream[: rng.randrange(len(stream) + 1)]
        sock.sendall(stream)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    while len(data) >= 2:
        (length,) = struct.unpack("!H", data[:2])
        body, data = data[2 : 2 + length], data[2 + length :]
        if len(body) < length:
            raise Failure("a TCP reply cut short")
        judge_reply(b"", body, "tcp", oracle)


SECRET = b"FUZZ-SECRET-OUTSIDE-ROOT"


HEADER_NAMES = [b"Host", b"Content-Length", b"Range", b"If-Modified-Since", b"If-None-Match",
                b"Connection", b"Transfer-Encoding", b"Expect"]
ODD_VALUE_OCTETS = b"0123456789-,=*: \t\"bytes" + bytes([0xB2, 0xB3, 0xB9, 0xBD, 0xFF, 0x80, 0xC3])
# latin-1 superscripts: str.isdigit() holds for them once decoded, yet int() refuses them
DIGIT_LIKE = b"0123456789\xb2\xb3\xb9"


def _odd_number(rng: random.Random) -> bytes:
    return bytes(rng.choice(DIGIT_LIKE) for _ in range(rng.randint(1, 3))) or b"0"


def hostile_headers(rng: random.Random) -> bytes:
    """A request whose meaningful headers carry odd, repeated or oversized values."""
    lines = [b"GET /files/notes.txt HTTP/1.1"]
    for _ in range(rng.randint(1, 6)):
        shape = rng.randrange(4)
        if shape == 0:
            value = bytes(rng.choice(ODD_VALUE_OCTETS) for _ in range(rng.randint(0, 24)))
        elif shape == 1:
            value = b"9" * rng.randint(20, 400)
        elif shape == 2:
            value = _odd_number(rng)
        else:
            value = b"bytes=" + _odd_number(rng) + b"-" + _odd_number(rng)
        lines.append(rng.choice(HEADER_NAMES) + b": " + value)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def chunked_body(rng: random.Random) -> bytes:
    """A chunked body, well formed or broken in one of the ways RFC 9112 7.1 rules out."""
    out = b""
    for _ in range(rng.randint(0, 4)):
        data = os.urandom(rng.randint(1, 40))
        size = b"%x" % len(data)
        shape = rng.randrange(8)
        if shape == 0:
            size += rng.choice([b";a=b", b" ; x", b';q="a;\\"b"', b";", b"=", b';a="'])
        elif shape == 1:
            size = rng.choice([b"zz", b"-1", b"", b"f" * 20, b"0x10", b"1" * 5000])
        elif shape == 2:
            data = data[:-1] if len(data) > 1 else data + b"!"
        out += size + rng.choice([b"\r\n", b"\n", b"\r"]) + data + rng.choice([b"\r\n", b"\n", b""])
    trailer = rng.choice([b"", b"T: v\r\n", b"bad trailer\r\n", b"X:\r\nY: z\n"])
    return out + rng.choice([b"0\r\n", b"0\n", b"00;e\r\n"]) + trailer + rng.choice([b"\r\n", b"\n", b""])


def bodied_request(rng: random.Random) -> bytes:
    """Requests with content (Content-Length or chunked), Expect, bare LFs and several
    ranges, pipelined: the next request must be read from where the content ends."""
    out = b""
    for _ in range(rng.randint(1, 4)):
        method = rng.choice([b"GET", b"HEAD", b"POST", b"PUT", b"XYZ"])
        eol = rng.choice([b"\r\n", b"\r\n", b"\n"])
        lines = [method + b" " + rng.choice([b"/files/notes.txt", b"/HelloWorld.html", b"/nope",
                                             b"/files", b"/%ff"]) + b" HTTP/1.1", b"Host: x"]
        if rng.random() < 0.4:
            lines.append(b"Expect: " + rng.choice([b"100-continue", b"100-Continue", b"bogus"]))
        if rng.random() < 0.4:
            spans = [rng.choice([b"0-1", b"5-", b"-3", b"2-9", b"9-2", b"400-", b"0-0", b""])
                     for _ in range(rng.randint(1, 20))]
            lines.append(b"Range: bytes=" + b",".join(spans))
        body = b""
        if rng.random() < 0.5:
            lines.append(b"Transfer-Encoding: " + rng.choice([b"chunked", b"chunked", b"gzip, chunked"]))
            body = chunked_body(rng)
        elif rng.random() < 0.7:
            body = os.urandom(rng.randint(0, 50))
            lines.append(b"Content-Length: %d" % (len(body) + rng.choice([0, 0, 0, -1, 1])))
        out += eol.join(lines) + eol + eol + body
    return out


def hostile_request(rng: random.Random) -> bytes:
    kind = rng.randrange(11)
    if kind >= 9:
        return bodied_request(rng)
    if kind == 8:
        return hostile_headers(rng)
    paths = ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/..\\secret.txt",
             "/%00", "http://x/../secret.txt", "/files/../../secret.txt", "/escape/secret.txt",
             "/" + "a/" * 500, "/%c0%ae%c0%ae/secret.txt", "/HelloWorld.html"]
    if kind == 0:
        return os.urandom(rng.randint(1, 300))
    if kind == 1:
        return f"GET {rng.choice(paths)} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    if kind == 2:
        return b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"y" * rng.randint(1, 400))
                                                 for i in range(rng.randint(50, 300))) + b"\r\n"
    if kind == 3:
        return b"GET /" + b"z" * rng.randint(8000, 20000) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    if kind == 4:
        return rng.choice([b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b" / HTTP/1.1\r\n\r\n",
                           b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                           b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                           b"G\xffT / HTTP/1.1\r\n\r\n", b"GET /\xc3\x28 HTTP/1.1\r\nHost: x\r\n\r\n"])
    if kind == 5:
        return b"".join(f"GET {rng.choice(paths)} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                        for _ in range(rng.randint(2, 20)))
    if kind == 6:
        line = f"{rng.choice(['GET', 'HEAD', 'POST', 'PUT', 'XYZ'])} {rng.choice(paths)} HTTP/1.1"
        return (line + "\r\nHost: x\r\nRange: bytes=" + rng.choice(["0-", "-5", "9-1", "a-b"])
                + "\r\nIf-None-Match: *\r\n\r\n").encode()
    data = bytearray(f"GET {rng.choice(paths)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def methods_of(request: bytes) -> tuple[list[str], str | None]:
    """The method of each request the server reads from ``request``, in order, by the
    server's own parser (an error ends the connection; HEAD decides whether a body comes);
    and the method of a last request whose head came whole with Expect: 100-continue but
    none of its content: the server may answer it at once with its final status."""
    methods: list[str] = []
    data = request
    while data:
        parsed = parse_request(data)
        if parsed is None:
            head = parse_head(data)
            if head is not None and isinstance(head[0], Request) and head[0].expects_continue and (
                    len(data) == head[1]):
                return methods, head[0].method
            break
        found, used = parsed
        if isinstance(found, HttpError):
            methods.append("HEAD" if data[:64].lstrip(b"\r\n").startswith(b"HEAD ") else "GET")
            break
        methods.append(found.method)
        if not found.keep_alive:
            break
        data = data[used:]
    return methods, None


def h11_statuses(request: bytes, reply: bytes) -> list[int]:
    """Every response in ``reply`` framed and checked by h11 (a client we did not write);
    Failure when h11 refuses one, or when octets are left over."""
    methods, early = methods_of(request)
    conn = h11.Connection(h11.CLIENT)
    conn.receive_data(reply)
    conn.receive_data(b"")
    found: list[int] = []
    try:
        while True:
            if len(found) >= len(methods):
                left = bytes(conn.trailing_data[0])
                if not left or (early is not None and left == b"HTTP/1.1 100 Continue\r\n\r\n"):
                    return found  # (a 100 to a request whose content never came: no final)
                if early is None or len(found) > len(methods):
                    raise Failure(f"octets after the last response to {request[:80]!r}")
                methods.append(early)  # the early final answer to an expectation
            conn.send(h11.Request(method=methods[len(found)], target="/", headers=[("Host", "x")]))
            conn.send(h11.EndOfMessage())
            while True:
                event = conn.next_event()
                if isinstance(event, h11.Response):
                    found.append(event.status_code)
                elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                    if event is h11.NEED_DATA and conn.their_state is not h11.DONE and (
                            conn.their_state is not h11.SEND_RESPONSE):
                        raise Failure(f"a response cut short for {request[:80]!r}: {reply[-80:]!r}")
                    return found
                elif isinstance(event, h11.EndOfMessage):
                    break
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return found
            conn.start_next_cycle()
    except h11.RemoteProtocolError as exc:
        raise Failure(f"h11 refused the response to {request[:80]!r}: {exc}; "
                      f"{reply[:200]!r}") from None


def fuzz_web(count: int, seed: int) -> str:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "www"
        shutil.copytree(REPO / "site", root)
        (Path(tmp) / "secret.txt").write_bytes(SECRET)
        (root / "escape").symlink_to(tmp)
        proc, port = start(["web-serve", "--port", "0", "--quiet", "--root", str(root)])
        statuses: dict[int, int] = {}
        try:
            for done in range(count):
                if done and done % 100000 == 0:
                    print(f"web: {done} inputs, statuses so far {sorted(statuses.items())}",
                          file=sys.stderr, flush=True)
                request = hostile_request(rng)
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                    try:
                        sock.sendall(request)
                        sock.shutdown(socket.SHUT_WR)
                        reply = b""
                        while chunk := sock.recv(65536):
                            reply += chunk
                    except OSError:  # reset, or not connected any more: no reply
                        reply = b""
                if SECRET in reply:
                    raise Failure(f"secret leaked for {request[:80]!r}")
                if reply:
                    if not reply.startswith(b"HTTP/1.1 "):
                        raise Failure(f"not an HTTP response to {request[:80]!r}: {reply[:40]!r}")
                    try:
                        answered = h11_statuses(request, reply)
                    except Failure as exc:
                        raise Failure(f"input {done} (seed {seed}): {exc}; whole input "
                                      f"{request!r}") from None
                    for status in answered:
                        statuses[status] = statuses.get(status, 0) + 1
                    if 500 in answered:  # an internal error: the server's stderr says which
                        err = stop(proc)
                        raise Failure(f"500 for input {done} (seed {seed}) {request!r}; "
                                      f"server: {err[-1500:]}")
                if proc.poll() is not None:
                    raise Failure("web server died")
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"GET /HelloWorld.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if not sock.recv(100).startswith(b"HTTP/1.1 200"):
                    raise Failure("no 200 after the storm")
        finally:
            if proc.poll() is None:
                stop(proc)
    shown = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
    return (f"web: {count} hostile requests, no file outside the root served, every response "
            f"framed by h11, statuses {shown}")


def fuzz_pcap(count: int, seed: int) -> str:
    rng = random.Random(seed)
    source = (REPO / "pcaps" / "session.pcap").read_bytes()
    codes: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corrupt.pcap"
        for _ in range(count):
            data = bytearray(source)
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if rng.random() < 0.3:
                del data[rng.randrange(len(data)):]
            path.write_bytes(bytes(data))
            result = subprocess.run([sys.executable, "-m", "craft", "verify", str(path)], cwd=REPO,
                                    capture_output=True, text=True, timeout=60, check=False)
            if result.returncode not in (0, 1, 2) or "Traceback" in result.stderr + result.stdout:
                raise Failure(f"verify exited {result.returncode}: {result.stderr[-300:]}")
            codes[result.returncode] = codes.get(result.returncode, 0) + 1
    return f"pcap: {count} corrupted captures, verify exit codes {codes}, no traceback"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=["dns", "web", "pcap", "all"])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=358)
    parser.add_argument("--oracle-every", type=int, default=1,
                        help="check every Nth DNS reply with Scapy too (1: all)")
    args = parser.parse_args()
    started = time.monotonic()
    try:
        for target in (["dns", "web", "pcap"] if args.target == "all" else [args.target]):
            if target == "dns":
                print(fuzz_dns(args.count, args.seed, args.oracle_every))
            elif target == "web":
                print(fuzz_web(args.count, args.seed))
            else:
                print(fuzz_pcap(max(1, args.count // 100), args.seed))
    except Failure as exc:
        print(f"FUZZ FAILURE: {exc}", file=sys.stderr)
        return 1
    print(f"done in {time.monotonic() - started:.1f} s (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
