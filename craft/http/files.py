"""What the web server remembers about served files between requests.

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

import os
import time
from pathlib import Path

from craft.http.protocol import (
    FileInfo,
    Request,
    Response,
    file_info,
    file_response,
    file_version,
    locate,
)

REMEMBER = 1.0
SMALL_FILE = 64 * 1024
MAX_ENTRIES = 4096
MAX_CONTENT = 32 * 1024 * 1024


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
        """The same response as ``craft.http.protocol.plan``, from memory when it can be."""
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
