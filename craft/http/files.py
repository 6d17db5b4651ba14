"""The served folder: which file a request target names, folder listings, and the file cache.

Everything in the web server that touches the file system is here; the HTTP rules around it
are ``craft.http.protocol``'s. ``resolve`` maps a target onto a path that stays inside the
root (percent-decoding first, symlinks followed); ``locate`` turns a GET or HEAD into a
located regular file, or into the response that answers instead (404, 403, a 301 to the
folder's slash, a listing, 405 or 501); ``plan`` is the whole answer for one request.

Resolving a request target is the costly part of serving a small file: percent-decoding,
a ``realpath`` with a system call per path component, the checks that keep requests
inside the root, the content type and the header text. ``FileCache`` keeps that result
per request target for ``remember`` seconds, and the bytes of small files, so a repeated
request costs one ``stat`` of the already resolved path. That ``stat`` compares inode,
size, mtime and ctime, so a file rewritten, replaced or chmod-ed is seen at once; only a
change in *which* file a target names (a symlink or folder swapped in the path) can take
up to ``remember`` seconds to be seen, the trade nginx's ``open_file_cache`` makes too.
"""

from __future__ import annotations

import html
import mimetypes
import os
import stat
import time
from pathlib import Path
from urllib.parse import quote, unquote, unquote_to_bytes

from craft.http.protocol import (
    ALLOWED,
    KNOWN_METHODS,
    SERVER,
    FileInfo,
    HttpError,
    Request,
    Response,
    encode_headers,
    error_response,
    file_response,
    http_date,
    path_and_query,
)

REMEMBER = 1.0
SMALL_FILE = 64 * 1024
MAX_ENTRIES = 4096
MAX_CONTENT = 32 * 1024 * 1024
TEXT_TYPES = ("text/", "application/javascript", "application/json", "application/xml",
              "image/svg+xml")


def content_type(path: str) -> str:
    kind, encoding = mimetypes.guess_type(path)
    if encoding is not None:  # notes.txt.gz is gzip octets, not text (no Content-Encoding sent)
        kind = None
    kind = kind or "application/octet-stream"
    if kind.startswith(TEXT_TYPES):
        kind += "; charset=utf-8"
    return kind



def resolve(root: Path, target: str) -> Path:
    """The file or folder under ``root`` that ``target`` names; HttpError 400/403/404.

    Every segment is percent-decoded before the checks, so ``%2e%2e`` and ``%2f`` are seen
    for what they are; the resolved path (symlinks followed) must stay inside the root."""
    path = path_and_query(target)[0]  # absolute form too: schemes are case-blind
    if not path.startswith("/"):
        raise HttpError(400, "request target must start with /")
    # Octets, not text: a file name need not be UTF-8, and its listing links to its own
    # octets percent-encoded; os.fsdecode carries them to the file system unchanged.
    raw = unquote_to_bytes(path)
    decoded = raw.decode("utf-8", "replace")  # for messages only
    if b"\x00" in raw:
        raise HttpError(400, "NUL in request path")
    if b"\\" in raw:
        raise HttpError(403, "backslash in request path")
    segments = [s for s in raw.split(b"/") if s not in (b"", b".")]
    if b".." in segments:
        raise HttpError(403, "path escapes the served folder")
    candidate = root.joinpath(*map(os.fsdecode, segments)) if segments else root
    try:
        real = candidate.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise HttpError(404, f"{decoded} not found") from None
    except (OSError, RuntimeError):
        raise HttpError(403, "path cannot be resolved") from None
    if real != root and root not in real.parents:
        raise HttpError(403, "path leads outside the served folder")
    return real



def locate(request: Request, root: Path) -> Response | tuple[str, os.stat_result]:
    """The regular file a GET or HEAD names (a folder's index.html included) with its
    stat, or the response that answers the request instead: an error, a redirect from a
    folder without its slash, a folder listing, or 405/501 for other methods."""
    head = request.method == "HEAD"
    close = not request.keep_alive
    if request.method not in ("GET", "HEAD"):
        if request.method in KNOWN_METHODS:
            return error_response(405, f"{request.method} is not allowed here", close=close,
                                  extra=(("Allow", ALLOWED),))
        return error_response(501, f"{request.method} is not implemented", close=close)
    try:
        path = resolve(root, request.target)
        info = path.stat()
    except HttpError as exc:
        return error_response(exc.status, exc.detail, head=head, close=close)
    except OSError:
        return error_response(403, "not readable", head=head, close=close)
    target_path, query = path_and_query(request.target)
    if not stat.S_ISDIR(info.st_mode) and target_path.endswith("/"):
        # /a.txt/ names a folder that is not there (as nginx answers)
        return error_response(404, f"{unquote(target_path)} not found", head=head, close=close)
    if stat.S_ISDIR(info.st_mode):
        if not target_path.endswith("/"):
            # Built from the path's segments, re-encoded: never "//host/" from "//x", never a
            # fragment, and the query kept (RFC 9110 10.2.2).
            segments = [s for s in unquote_to_bytes(target_path).split(b"/") if s]
            location = "/" + "".join(quote(s) + "/" for s in segments)
            location += f"?{query}" if query else ""
            return error_response(301, f"see {location}", head=head, close=close,
                                  extra=(("Location", location),))
        index = path / "index.html"
        try:
            if index.is_file() and (index.resolve() == root or root in index.resolve().parents):
                path, info = index, index.stat()
            else:
                return _listing(path, root, request, head, close)
        except OSError:  # a folder we may not read or list
            return error_response(403, "folder not readable", head=head, close=close)
    if not stat.S_ISREG(info.st_mode):
        return error_response(403, "not a regular file", head=head, close=close)
    if not os.access(path, os.R_OK):
        return error_response(403, "not readable", head=head, close=close)
    return str(path), info



def file_version(info: os.stat_result) -> tuple[int, int, int, int]:
    """Changes whenever the file's content, size or permissions do (ctime follows chmod)."""
    return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def file_info(path: str, info: os.stat_result, content: bytes | None = None) -> FileInfo:
    size = info.st_size
    etag = f'"{info.st_mtime_ns:x}-{size:x}"'
    modified = http_date(info.st_mtime)
    base = (("Content-Type", content_type(path)), ("Last-Modified", modified),
            ("ETag", etag), ("Accept-Ranges", "bytes"))
    whole = encode_headers((*base, ("Content-Length", str(size))))
    return FileInfo(path, size, etag, modified, int(info.st_mtime), base, whole,
                    file_version(info), content)



def plan(request: Request, root: Path) -> Response:
    """The response to a parsed request; ``root`` must be resolved (absolute, no links)."""
    found = locate(request, root)
    if isinstance(found, Response):
        return found
    return file_response(request, file_info(*found))



def _listing(folder: Path, root: Path, request: Request, head: bool, close: bool) -> Response:
    shown = "/" + "/".join(folder.relative_to(root).parts)
    rows = []
    for entry in sorted(folder.iterdir(), key=lambda p: (not p.is_dir(), p.name)):
        raw = os.fsencode(entry.name) + (b"/" if entry.is_dir() else b"")
        href = quote(raw)  # the name's own octets percent-encoded (RFC 3986 2.5); "/" kept
        shown_name = raw.decode("utf-8", "replace")  # a non-UTF-8 name still shows
        rows.append(f'<li><a href="{html.escape(href, quote=True)}">{html.escape(shown_name)}'
                    "</a></li>")
    title = html.escape(f"Index of {shown}")
    page = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"</head>\n<body><h1>{title}</h1>\n<ul>\n" + "\n".join(rows)
            + f"\n</ul>\n<hr><p>{SERVER}</p></body></html>\n").encode()
    headers = (("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page))))
    return Response(200, headers, page, close, not head, len(page))


class FileCache:
    def __init__(self, root: Path, remember: float = REMEMBER, small_file: int = SMALL_FILE,
                 max_entries: int = MAX_ENTRIES, max_content: int = MAX_CONTENT) -> None:
        self.root = root
        self.remember = remember
        self.small_file = small_file
        self.max_entries = max_entries
        self.max_content = max_content
        self._entries: dict[str, tuple[FileInfo, float]] = {}
        self._content = 0  # octets of file content held

    def plan(self, request: Request) -> Response:
        """The same response as this module's ``plan``, from memory when it can be."""
        if request.method in ("GET", "HEAD"):
            entry = self._entries.get(request.target)
            if entry is not None:
                file, resolved_at = entry
                if time.monotonic() - resolved_at < self.remember:
                    try:
                        current = file_version(os.stat(file.path))
                    except OSError:
                        current = None
                    if current == file.version:
                        return file_response(request, file)
                self._forget(request.target)
        found = locate(request, self.root)
        if isinstance(found, Response):
            return found
        file = self._remember(request.target, *found)
        return file_response(request, file)

    def _remember(self, target: str, path: str, info: os.stat_result) -> FileInfo:
        content = None
        if info.st_size <= self.small_file and self._content + info.st_size <= self.max_content:
            content, info = self._read(path, info)
        file = file_info(path, info, content)
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
            self._content = 0
        self._entries[target] = (file, time.monotonic())
        self._content += len(content or b"")
        return file

    @staticmethod
    def _read(path: str, info: os.stat_result) -> tuple[bytes | None, os.stat_result]:
        """The whole file and the stat of what was read; None when it would not read whole
        (it changed under us, or vanished): then it is sent from disk as usual."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None, info
        try:
            opened = os.fstat(fd)
            data = os.read(fd, opened.st_size + 1)
        except OSError:
            return None, info
        finally:
            os.close(fd)
        if len(data) != opened.st_size:
            return None, info
        return data, opened

    def _forget(self, target: str) -> None:
        file, _ = self._entries.pop(target)
        self._content -= len(file.content or b"")
