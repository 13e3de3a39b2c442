"""HTTP byte ranges (RFC 9110, one range per request) for the clip media view, so a player can seek.

Django's FileResponse always answers 200 with the whole file; a browser then cannot seek a video it
has not buffered (its `seekable` range stays empty). `byte_ranges(view)` wraps a view that returns a
FileResponse: the view keeps every check and header it sets (visibility, safe path, content type,
CSP); a single satisfiable `Range: bytes=...` gets a 206 with just those bytes.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024
# Headers of the wrapped response that the partial response must keep.
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "X-Content-Type-Options", "Content-Security-Policy", "Vary")


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(first, last) byte of a single range; None when the header is absent, malformed or multi-range
    (serve the whole file); False when it cannot be satisfied (416)."""
    match = RANGE_PATTERN.match(header.strip().replace(" ", ""))
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first_text, last_text = match.groups()
    if not first_text:  # a suffix: the last N bytes
        length = int(last_text)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        return False
    return first, last


def _read(stream: IO[bytes], first: int, length: int) -> Iterator[bytes]:
    try:
        stream.seek(first)
        remaining = length
        while remaining > 0:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        stream.close()


def byte_ranges(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        if not isinstance(response, FileResponse) or response.status_code != 200:
            return response
        stream = getattr(response, "file_to_stream", None)
        if stream is None or not hasattr(stream, "seek"):
            return response
        response["Accept-Ranges"] = "bytes"
        header = request.headers.get("Range")
        if not header:
            return response
        size = os.fstat(stream.fileno()).st_size
        wanted = parse_range(header, size)
        if wanted is None:
            return response
        if wanted is False:
            stream.close()
            refused = HttpResponse(status=416)
            refused["Content-Range"] = f"bytes */{size}"
            return refused
        first, last = wanted  # type: ignore[misc]
        partial = StreamingHttpResponse(_read(stream, first, last - first + 1), status=206)
        for name in KEPT_HEADERS:
            if name in response:
                partial[name] = response[name]
        partial["Accept-Ranges"] = "bytes"
        partial["Content-Range"] = f"bytes {first}-{last}/{size}"
        partial["Content-Length"] = str(last - first + 1)
        return partial

    return wrapped
