"""Serving clips to annotators blind: metadata-free copies, opaque names, byte ranges (so players can seek)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
from pathlib import Path

import av
from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

logger = logging.getLogger(__name__)
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 256 * 1024


def served_copy(source: Path) -> Path:
    """A copy of the clip remuxed without container or stream tags (a title or comment could name the model),
    cached under MEDIA_ROOT/annotation/served/ by a keyed hash of the source path. Falls back to the source
    when it cannot be remuxed (it is then served as uploaded)."""
    key = hmac.new(settings.SECRET_KEY.encode(), str(source).encode(), hashlib.sha256).hexdigest()[:32]
    target = Path(settings.MEDIA_ROOT) / "annotation" / "served" / f"{key}.mp4"
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.part")
    try:
        with av.open(str(source)) as inp, av.open(str(partial), "w", format="mp4") as out:
            mapping = {}
            for stream in inp.streams:
                if stream.type in ("video", "audio"):
                    copied = out.add_stream_from_template(stream)
                    copied.metadata.clear()
                    mapping[stream.index] = copied
            for packet in inp.demux(*[inp.streams[i] for i in mapping]):
                if packet.dts is None:
                    continue
                packet.stream = mapping[packet.stream.index]
                out.mux(packet)
        partial.replace(target)
        return target
    except (OSError, ValueError) as error:
        logger.warning("serving %s as uploaded: remux without metadata failed: %s", source.name, error)
        partial.unlink(missing_ok=True)
        return source


def ranged_file_response(request: HttpRequest, path: Path, *, filename: str, content_type: str) -> HttpResponse:
    """The file inline under `filename`, honouring a single `Range: bytes=a-b` (206) as video players need."""
    size = path.stat().st_size
    match = RANGE.match(request.headers.get("Range", "").strip())
    if match and (match.group(1) or match.group(2)):
        if match.group(1):
            start = int(match.group(1))
            end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
        else:  # suffix range: the last N bytes
            start, end = max(0, size - int(match.group(2))), size - 1
        if start > end or start >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        handle = open(path, "rb")
        handle.seek(start)
        length = end - start + 1

        def chunks(remaining: int = length):  # type: ignore[no-untyped-def]
            try:
                while remaining > 0:
                    data = handle.read(min(CHUNK, remaining))
                    if not data:
                        break
                    remaining -= len(data)
                    yield data
            finally:
                handle.close()

        response = StreamingHttpResponse(chunks(), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(length)
    else:
        response = FileResponse(open(path, "rb"), content_type=content_type)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
