"""TSIG (RFC 8945) against real peers on 127.0.0.1: dig -y and kdig -y check craft's signed
answers; NSD and Knot transfer from craft over TSIG (and fail to with a wrong secret) and
take its signed NOTIFY; BIND as primary transfers to craft's client with the same key.

Every server started here is stopped here; a zone that must not transfer is shown not to
by the secondary's own log of the refusal, never by waiting a fixed time.
"""

from __future__ import annotations

import base64
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import craft_process, daemon_path, free_port, running_daemon, wait_until
from test_transfer import ask_text, lab_primary

from craft.dns.codec import decode, encode
from craft.dns.constants import RRType
from craft.dns.message import Header, Message, Question
from craft.dns.names import Name
from craft.dns.rdtypes.dnssec import TSIG
from craft.dns.tsig import BADTIME, Faults, find, parse_dig_key, sign
from craft.dns.zone import LAB_TABLE
from craft.transport import send_bytes

ZONES = Path(__file__).resolve().parent.parent / "zones"
GOOD = base64.b64encode(bytes(range(32))).decode()
GOOD2 = base64.b64encode(bytes(range(100, 132))).decode()
WRONG = base64.b64encode(bytes(range(200, 232))).decode()
KEYS = ["--tsig-key", f"xfr1:hmac-sha256:{GOOD}", "--tsig-key", f"xfr2:hmac-sha512:{GOOD2}"]


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} missing: `make test` installs it")
    return path


def waiter(log: Path, who: str) -> Callable[[Callable[[], bool], str], None]:
    """``wait_until`` that shows the peer's log when the wait fails."""

    def wait(check: Callable[[], bool], message: str) -> None:
        try:
            wait_until(check, message, timeout=30)
        except AssertionError:
            raise AssertionError(f"{message}; {who}'s log:\n{log.read_text()}") from None

    return wait


# ---- dig and kdig check craft's MACs ----


def test_dig_and_kdig_verify_crafts_signed_answers_and_transfers() -> None:
    dig, kdig = tool("dig"), tool("kdig")
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--no-oracle", *KEYS,
                        "--allow-transfer", "KEY:xfr1"]) as (_, port):
        for client in (dig, kdig):
            for key in (f"hmac-sha256:xfr1:{GOOD}", f"hmac-sha512:xfr2:{GOOD2}"):
                for args in (["google.com", "A"], ["+tcp", "google.com", "NS"],
                             ["google.com", "AXFR"]):
                    if args[-1] == "AXFR" and "xfr2" in key:
                        continue  # xfr2 may not transfer (checked below)
                    out = run([client, "@127.0.0.1", "-p", str(port), "-y", key, *args]).stdout
                    what = (client, key.split(":")[1], args)
                    assert "ANY\tTSIG\thmac-sha" in out.replace("ANY TSIG", "ANY\tTSIG"), (what, out)
                    assert "NOERROR" in out and ("192.165.1.1" in out or "\tNS\t" in out), (what, out)
                    for failure in ("Couldn't verify", "could not be validated", "failed", "BADSIG",
                                    "BADKEY", "BADTIME", "Transfer failed"):
                        assert failure not in out, (what, out)
            # a wrong secret: craft answers BADSIG unsigned, and the tools say so
            out = run([client, "@127.0.0.1", "-p", str(port), "-y", f"hmac-sha256:xfr1:{WRONG}",
                       "google.com", "A"]).stdout
            # dig says NOTAUTH and the TSIG error; kdig folds them into "status: BADSIG"
            assert "BADSIG" in out and "192.165.1.1" not in out, (client, out)
            assert "status: NOTAUTH" in out or "status: BADSIG" in out, (client, out)
        # dig's transfer with a key not allowed: REFUSED, signed
        out = run([dig, "@127.0.0.1", "-p", str(port), "-y", f"hmac-sha512:xfr2:{GOOD2}",
                   "google.com", "AXFR"]).stdout
        assert "Transfer failed" in out and "192.165.1.1" not in out, out
        out = run([dig, "@127.0.0.1", "-p", str(port), "google.com", "AXFR"]).stdout
        assert "Transfer failed" in out, out  # unsigned: only KEY:xfr1 lets in


def test_dns_ask_y_checks_the_answers_signature() -> None:
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--no-oracle", *KEYS,
                        "--allow-transfer", "KEY:xfr1"]) as (_, port):
        base = [sys.executable, "-m", "craft", "dns-ask", "--port", str(port)]
        good = run([*base, "-y", f"xfr1:{GOOD}", "google.com"])
        assert good.returncode == 0 and ";; TSIG: verified with key xfr1." in good.stdout
        assert "addr (4) 192.165.1.1" in good.stdout
        bad = run([*base, "-y", f"xfr1:{WRONG}", "google.com"])
        assert bad.returncode == 9 and "Couldn't verify signature" in bad.stdout
        assert "BADSIG" in bad.stdout and "192.165.1.1" not in bad.stdout
        unknown = run([*base, "-y", f"hmac-sha1:nobody:{GOOD}", "google.com"])
        assert unknown.returncode == 9 and "BADKEY" in unknown.stdout
        transfer = run([*base, "-y", f"xfr1:{GOOD}", "-t", "AXFR", "google.com"])
        assert transfer.returncode == 0 and "ns1.google.com. 3600 IN A 127.0.0.1" in transfer.stdout
        refused = run([*base, "-y", f"xfr1:{WRONG}", "-t", "AXFR", "google.com"])
        assert refused.returncode == 9 and "BADSIG" in refused.stdout and "IN A" not in refused.stdout
        for bad_key in ("xfr1", f"hmac-md5:xfr1:{GOOD}", "xfr1:***"):
            usage = run([*base, "-y", bad_key, "google.com"])
            assert usage.returncode == 2 and "Traceback" not in usage.stderr, bad_key
            assert len(usage.stderr.strip().splitlines()[-1]) < 200


def test_dns_ask_y_sees_a_missing_signature() -> None:
    # craft without keys answers BADKEY, unsigned
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--no-oracle"]) as (_, port):
        base = [sys.executable, "-m", "craft", "dns-ask", "--port", str(port)]
        out = run([*base, "-y", f"xfr1:{GOOD}", "google.com"])
        assert out.returncode == 9 and "BADKEY" in out.stdout
    # a server that ignores TSIG and answers unsigned (a loopback socket echoing the
    # question with QR set and no records)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)

        def echo() -> None:
            with contextlib.suppress(OSError):
                data, peer = sock.recvfrom(4096)
                found = find(data)
                assert found is not None
                unsigned = found.unsigned
                sock.sendto(data[:2] + bytes([unsigned[2] | 0x80]) + unsigned[3:], peer)

        thread = threading.Thread(target=echo, daemon=True)
        thread.start()
        out = run([sys.executable, "-m", "craft", "dns-ask", "--port", str(sock.getsockname()[1]),
                   "--retries", "0", "-y", f"xfr1:{GOOD}", "google.com"])
        thread.join(10)
    assert out.returncode == 9, out.stdout
    assert ";; Couldn't verify signature: the answer is not signed" in out.stdout


@pytest.mark.parametrize(("args", "says"), [
    (["--tsig-key", "k:hmac-md5:AAAA"], "unknown TSIG algorithm"),
    (["--tsig-key", "k:hmac-sha256:%%%"], "not base64"),
    (["--tsig-key", "nocolons"], "NAME:ALGORITHM:BASE64"),
    (["--allow-transfer", "KEY:nokey"], "no --tsig-key or --tsig-keyfile key named"),
    (["--notify", "127.0.0.1:53,KEY:nokey"], "no --tsig-key or --tsig-keyfile key named"),
    (["--notify", "127.0.0.1:53,xfr1"], "HOST:PORT[,KEY:NAME]"),
    (["--tsig-keyfile", "/nonexistent/k.conf"], "No such file"),
])
def test_bad_key_options_are_one_line_errors(args: list[str], says: str) -> None:
    out = run([sys.executable, "-m", "craft", "dns-serve", "--port", "0", *args])
    assert out.returncode == 2 and says in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_keyfile_keys_serve(tmp_path: Path) -> None:
    keyfile = tmp_path / "keys.conf"
    keyfile.write_text(f'key "xfr1" {{\n\talgorithm hmac-sha256;\n\tsecret "{GOOD}";\n}};\n'
                       f'key "xfr2" {{ algorithm hmac-sha512; secret "{GOOD2}"; }};\n')
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--no-oracle",
                        "--tsig-keyfile", str(keyfile)]) as (_, port):
        for key in (f"hmac-sha256:xfr1:{GOOD}", f"hmac-sha512:xfr2:{GOOD2}"):
            out = run([sys.executable, "-m", "craft", "dns-ask", "--port", str(port), "-y", key,
                       "google.com"])
            assert out.returncode == 0 and "verified" in out.stdout, out.stdout


# ---- NSD and Knot as secondaries over TSIG ----


def hidden_primary(files: list[str], secondary_port: int) -> list[str]:
    """craft with both keys, transfers for either key only, NOTIFY signed with xfr1."""
    return ["dns-serve", "--port", "0", "--quiet", *files, *KEYS, "--allow-transfer", "KEY:xfr1",
            "--allow-transfer", "KEY:xfr2", "--notify", f"127.0.0.1:{secondary_port},KEY:xfr1"]


def nsd_conf(workdir: Path, port: int, craft_port: int) -> Path:
    """NSD holding xfr1 right and xfr2 with a wrong secret: google.com and the others
    transfer with xfr1, youtube.com asks with the wrong xfr2."""
    conf = workdir / "nsd.conf"
    zones = "".join(
        f"zone:\n  name: {domain}.\n  zonefile: {domain}.zone\n"
        f"  request-xfr: 127.0.0.1@{craft_port} {'xfr2' if domain == 'youtube.com' else 'xfr1'}\n"
        "  allow-notify: 127.0.0.1 xfr1\n"
        for domain, _, _ in LAB_TABLE
    )
    conf.write_text(
        "server:\n"
        f"  port: {port}\n  ip-address: 127.0.0.1\n  username: \"\"\n"
        f"  zonesdir: {workdir}\n  database: \"\"\n  pidfile: {workdir}/nsd.pid\n"
        f"  xfrdfile: {workdir}/xfrd.state\n  zonelistfile: {workdir}/zone.list\n"
        "  verbosity: 2\n  server-count: 1\n  tcp-count: 10\n"
        "remote-control:\n  control-enable: no\n"
        f'key:\n  name: xfr1\n  algorithm: hmac-sha256\n  secret: "{GOOD}"\n'
        f'key:\n  name: xfr2\n  algorithm: hmac-sha512\n  secret: "{WRONG}"\n' + zones
    )
    return conf


def test_nsd_secondary_transfers_over_tsig_refuses_a_wrong_key_and_takes_a_signed_notify(
        tmp_path: Path) -> None:
    nsd = daemon_path("nsd", "nsd")
    where, files = lab_primary(tmp_path)
    secondary = tmp_path / "nsd"
    secondary.mkdir()
    nsd_port = free_port()
    with craft_process(hidden_primary(files, nsd_port)) as (craft, craft_port):
        log = secondary / "nsd.log"
        conf = nsd_conf(secondary, nsd_port, craft_port)
        with running_daemon([nsd, "-d", "-c", str(conf)], log=log):
            nsd_serves = waiter(log, "NSD")
            for domain, _, _ in LAB_TABLE:
                if domain != "youtube.com":
                    nsd_serves(lambda d=domain: ask_text(nsd_port, d) == ask_text(craft_port, d) != "",
                               f"NSD never served {domain} as craft does")
            # the wrong secret: NSD logs craft's refusal and serves nothing for the zone
            nsd_serves(lambda: "zone youtube.com., from 127.0.0.1@" in log.read_text()
                       and "tsig error (Bad Signature)" in log.read_text(),
                       "NSD never logged the refused youtube.com transfer")
            assert "zone google.com. committed" in log.read_text()
            assert "TSIG verified with key xfr1" in log.read_text()
            assert "youtube.com: type A" not in ask_text(nsd_port, "youtube.com")
            # a change: craft bumps the serial and sends a NOTIFY signed with xfr1
            zone_file = where / "google.com.zone"
            zone_file.write_text(zone_file.read_text() + "www IN A 192.165.1.97\n")
            craft.send_signal(signal.SIGHUP)
            nsd_serves(lambda: "192.165.1.97" in ask_text(nsd_port, "www.google.com"),
                       "NSD did not pick up the change after the signed NOTIFY")
            craft.terminate()
            _, err = craft.communicate(timeout=10)
    assert f"NOTIFY google.com. serial 2022101402 to 127.0.0.1:{nsd_port}: acknowledged" in err


def test_knot_secondary_transfers_over_tsig_refuses_a_wrong_key_and_takes_a_signed_notify(
        tmp_path: Path) -> None:
    knotd = daemon_path("knotd", "knot")
    where, files = lab_primary(tmp_path)
    secondary = tmp_path / "knot"
    secondary.mkdir()
    knot_port = free_port()
    with craft_process(hidden_primary(files, knot_port)) as (craft, craft_port):
        conf = secondary / "knot.conf"
        zones = "".join(
            f"  - domain: {domain}\n    master: {'wrong' if domain == 'youtube.com' else 'craft'}\n"
            "    acl: notify-from-craft\n" for domain, _, _ in LAB_TABLE)
        conf.write_text(
            f"server:\n  listen: 127.0.0.1@{knot_port}\n  rundir: {secondary}\n"
            "log:\n  - target: stderr\n    any: info\n"
            f"database:\n  storage: {secondary}\n  timer-db: {secondary}/timers\n"
            f"template:\n  - id: default\n    storage: {secondary}\n"
            f"key:\n  - id: xfr1\n    algorithm: hmac-sha256\n    secret: {GOOD}\n"
            f"  - id: xfr2\n    algorithm: hmac-sha512\n    secret: {WRONG}\n"
            f"remote:\n  - id: craft\n    address: 127.0.0.1@{craft_port}\n    key: xfr1\n"
            f"  - id: wrong\n    address: 127.0.0.1@{craft_port}\n    key: xfr2\n"
            "acl:\n  - id: notify-from-craft\n    address: 127.0.0.1\n    key: xfr1\n"
            "    action: notify\n"
            "zone:\n" + zones
        )
        log = secondary / "knotd.log"
        with running_daemon([knotd, "-c", str(conf)], log=log):
            knot_serves = waiter(log, "knotd")
            for domain, _, _ in LAB_TABLE:
                if domain != "youtube.com":
                    knot_serves(lambda d=domain: ask_text(knot_port, d) == ask_text(craft_port, d) != "",
                                f"Knot never served {domain} as craft does")
            knot_serves(lambda: "[youtube.com.] refresh, remote wrong" in log.read_text()
                        and "failed (failed to verify TSIG)" in log.read_text(),
                        "Knot never logged the refused youtube.com transfer")
            assert "youtube.com: type A" not in ask_text(knot_port, "youtube.com")
            zone_file = where / "google.com.zone"
            zone_file.write_text(zone_file.read_text() + "www IN A 192.165.1.96\n")
            craft.send_signal(signal.SIGHUP)
            knot_serves(lambda: "192.165.1.96" in ask_text(knot_port, "www.google.com"),
                        "Knot did not pick up the change after the signed NOTIFY")
            craft.terminate()
            _, err = craft.communicate(timeout=10)
            knot_log = log.read_text()
    assert f"NOTIFY google.com. serial 2022101402 to 127.0.0.1:{knot_port}: acknowledged" in err
    assert "[google.com.] notify, incoming" in knot_log
    assert "failed to verify TSIG" not in "".join(
        line for line in knot_log.splitlines() if "[youtube.com.]" not in line)


# ---- BIND as primary, craft's client as secondary ----


@contextlib.contextmanager
def named_with_key(workdir: Path) -> Iterator[int]:
    named = daemon_path("named", "bind9")
    port = free_port()
    shutil.copy(ZONES / "google.com.zone", workdir)
    conf = workdir / "named.conf"
    conf.write_text(
        f'key "xfr1" {{ algorithm hmac-sha256; secret "{GOOD}"; }};\n'
        "options {\n"
        f'  directory "{workdir}";\n  pid-file "{workdir}/named.pid";\n'
        f'  session-keyfile "{workdir}/session.key";\n  managed-keys-directory "{workdir}";\n'
        f"  listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n"
        "  recursion no;\n  dnssec-validation no;\n  notify no;\n"
        "  allow-transfer { key xfr1; };\n};\ncontrols { };\n"
        f'zone "google.com" {{ type primary; file "{workdir}/google.com.zone"; }};\n'
    )
    log = workdir / "named.log"
    with running_daemon([named, "-g", "-n", "1", "-c", str(conf)], log, settle=0.0) as proc:
        wait_until(lambda: proc.poll() is not None or "192.165.1.1" in ask_text(port, "google.com"),
                   f"named did not answer; log in {log}", timeout=15)
        assert proc.poll() is None, log.read_text()[-2000:]
        yield port


def test_bind_primary_transfers_to_crafts_client_with_the_key(tmp_path: Path) -> None:
    with named_with_key(tmp_path) as port:
        base = [sys.executable, "-m", "craft", "dns-ask", "--port", str(port), "-t", "AXFR",
                "google.com"]
        signed = run([*base, "-y", f"hmac-sha256:xfr1:{GOOD}"])
        assert signed.returncode == 0, signed.stdout
        assert "google.com. 3600 IN SOA ns1.google.com." in signed.stdout
        assert "google.com. 260 IN A 192.165.1.10" in signed.stdout
        wrong = run([*base, "-y", f"hmac-sha256:xfr1:{WRONG}"])
        assert wrong.returncode == 9 and "TSIG" in wrong.stdout and "IN A" not in wrong.stdout
        unsigned = run(base)
        assert unsigned.returncode == 5 and "REFUSED" in unsigned.stdout
        query = run([sys.executable, "-m", "craft", "dns-ask", "--port", str(port),
                     "-y", f"xfr1:{GOOD}", "google.com"])
        assert query.returncode == 0 and "verified with key xfr1." in query.stdout


def test_error_answers_agree_with_binds_field_by_field(tmp_path: Path) -> None:
    """The same faulty signed queries to BIND and to craft (same key, same zone): the same
    rcode, TSIG error, MAC size and other data size, no answer records, each the same ID."""
    key = parse_dig_key(f"xfr1:{GOOD}")
    faults = {
        "good": (Faults(), 0),
        "wrong MAC": (Faults(wrong_mac=True), 0),
        "unknown algorithm": (Faults(algorithm=Name.from_text("hmac-md5.sig-alg.reg.int.")), 0),
        "time outside the fudge": (Faults(), -1000),
        "unknown key": (Faults(), 0),
    }
    question = encode(Message(Header(id=0x2345), (Question(Name.from_text("google.com."), RRType.A),)))

    def shape(port: int, what: str) -> tuple[object, ...]:
        fault, offset = faults[what]
        signer = parse_dig_key(f"stranger:{GOOD}") if what == "unknown key" else key
        wire, _ = sign(question, signer, int(time.time()) + offset, faults=fault)
        reply = send_bytes(wire, ("127.0.0.1", port), timeout=3).reply
        assert reply is not None, (what, port)
        message = decode(reply)
        t = message.additional[-1].rdata
        assert isinstance(t, TSIG), (what, port)
        return (message.header.id, message.rcode, len(message.answer), t.error, len(t.mac),
                len(t.other), t.original_id, message.additional[-1].name.to_text())

    with named_with_key(tmp_path) as bind_port, \
            craft_process(["dns-serve", "--port", "0", "--quiet", "--no-oracle", "--zone",
                           str(ZONES / "google.com.zone"), *KEYS]) as (_, craft_port):
        for what in faults:
            assert shape(craft_port, what) == shape(bind_port, what), what
        assert shape(craft_port, "time outside the fudge")[3:6] == (BADTIME, 32, 6)


def test_dns_send_crafts_tsig_faults_and_shows_what_the_mac_covers() -> None:
    with craft_process(["dns-serve", "--port", "0", "--quiet", "--no-oracle", *KEYS]) as (_, port):
        base = [sys.executable, "-m", "craft", "dns-send", "--port", str(port), "--no-color",
                "--question", "google.com", "A", "-y", f"xfr1:{GOOD}"]
        expected = {(): "NOERROR", ("--tsig-wrong-mac",): "BADSIG",
                    ("--tsig-truncate", "16"): "BADTRUNC", ("--tsig-truncate", "4"): "BADSIG",
                    ("--tsig-time", "-1000"): "BADTIME",
                    ("--tsig-algorithm", "hmac-md5.sig-alg.reg.int"): "BADKEY"}
        for args, error in expected.items():
            out = run([*base, *args]).stdout
            received = out.split(";; received", 1)[1]
            errors = [line.split()[-1] for line in received.splitlines() if "RDATA error" in line]
            assert errors == [error], (args, received)
            assert ("192.165.1.1" in received) == (error == "NOERROR"), args
        out = run(base).stdout
        sent = out.split(";; received", 1)[0]
        # the 28 octets of header and question, then the TSIG's covered fields, not the MAC
        assert ";; the TSIG's MAC covers octets 0-27, 28-33, 36-41, 44-64, 101-104" in sent
        assert "mac covers" in sent and "key name (lower-cased)" in sent
