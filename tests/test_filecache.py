"""FileCache answers exactly as ``craft.http.files.plan`` does, and never serves a stale file."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import serving
from test_web import h11_exchange

from craft.http.files import FileCache, plan
from craft.http.protocol import FileBody, Request, Response
from craft.web import WebServer

SITE = Path(__file__).resolve().parent.parent / "site"


def get(target: str, *headers: tuple[str, str], method: str = "GET") -> Request:
    return Request(method, target, (1, 1), (("host", "x"), *headers))


def materialized(response: Response) -> tuple[int, tuple[tuple[str, str], ...], bytes, bool, bool]:
    """A response with any file slice read, so a remembered body and a sent file compare."""
    pieces = response.body if isinstance(response.body, tuple) else (response.body,)
    body = b""
    for piece in pieces:
        if isinstance(piece, FileBody):
            with open(piece.path, "rb") as handle:
                handle.seek(piece.offset)
                piece = handle.read(piece.length)
        body += piece
    return response.status, response.headers, body, response.close, response.send_body


@pytest.fixture
def root(tmp_path: Path) -> Path:
    served = tmp_path / "www"
    shutil.copytree(SITE, served)
    (served / "big.bin").write_bytes(os.urandom(200_000))  # over the in-memory limit
    (served / "dir").mkdir()
    (served / "dir" / "index.html").write_text("<p>index</p>")
    return served.resolve()


def test_same_answers_as_plan_for_every_kind_of_request(root: Path) -> None:
    cache = FileCache(root)
    etag = dict(plan(get("/HelloWorld.html"), root).headers)["ETag"]
    requests = [
        get("/HelloWorld.html"), get("/HelloWorld.html", method="HEAD"),
        get("/HelloWorld.html", ("range", "bytes=3-9")), get("/HelloWorld.html", ("range", "bytes=-5")),
        get("/HelloWorld.html", ("range", "bytes=99999-")),
        get("/HelloWorld.html", ("if-none-match", etag)),
        get("/HelloWorld.html", ("range", "bytes=1-2"), ("if-range", '"other"')),
        get("/HelloWorld.html", ("connection", "close")),
        get("/big.bin"), get("/big.bin", ("range", "bytes=100-199")),
        get("/big.bin", ("range", "bytes=100-199, 5-6, -9")),
        get("/HelloWorld.html", ("range", "bytes=3-9,-5")),
        get("/dir/"), get("/dir"), get("/files/"), get("/nothing.html"), get("/%2e%2e/x"),
        get("/HelloWorld.html", method="POST"), get("/HelloWorld.html?q=1"),
    ]
    for round_ in range(2):  # the first round fills the cache, the second answers from it
        for request in requests:
            assert materialized(cache.plan(request)) == materialized(plan(request, root)), (round_, request)


def test_a_changed_or_removed_file_is_seen_at_once(root: Path) -> None:
    cache = FileCache(root, remember=3600.0)
    page = root / "page.html"
    page.write_bytes(b"first")
    assert cache.plan(get("/page.html")).body == b"first"
    page.write_bytes(b"again")  # same size, same second: inode and ctime still tell
    assert cache.plan(get("/page.html")).body == b"again"
    replacement = root / "new.html"
    replacement.write_bytes(b"replaced by rename")
    replacement.rename(page)
    assert cache.plan(get("/page.html")).body == b"replaced by rename"
    page.unlink()
    assert cache.plan(get("/page.html")).status == 404


def test_a_swapped_link_is_seen_once_the_memory_lapses(root: Path) -> None:
    (root / "a.html").write_bytes(b"A")
    (root / "b.html").write_bytes(b"B")
    (root / "link.html").symlink_to(root / "a.html")
    remembering, forgetting = FileCache(root, remember=3600.0), FileCache(root, remember=0.0)
    for cache in (remembering, forgetting):
        assert cache.plan(get("/link.html")).body == b"A"
    (root / "link.html").unlink()
    (root / "link.html").symlink_to(root / "b.html")
    assert forgetting.plan(get("/link.html")).body == b"B"
    assert remembering.plan(get("/link.html")).body == b"A"  # the documented trade


def test_memory_is_bounded(root: Path) -> None:
    for i in range(20):
        (root / f"f{i}.txt").write_bytes(bytes([i]) * 1000)
    cache = FileCache(root, max_entries=8, max_content=5000)
    for i in range(20):
        response = cache.plan(get(f"/f{i}.txt"))
        assert materialized(response)[2] == bytes([i]) * 1000
        assert len(cache._entries) <= 8 and cache._content <= 5000


@pytest.fixture
def web(root: Path) -> Iterator[tuple[str, int]]:
    with serving(WebServer(root, "127.0.0.1", 0)) as (_, address):
        yield address


def test_live_server_serves_an_edit_on_the_next_request(web: tuple[str, int], root: Path) -> None:
    page = root / "live.html"
    for text in (b"<p>one</p>", b"<p>two</p>", b"<p>three, longer</p>"):
        page.write_bytes(text)
        response, body = h11_exchange(web, "GET", "/live.html")
        assert response.status_code == 200 and body == text
