"""Enforce the archive size limit while a multipart upload is being received, not after it was stored."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

# Multipart framing (boundaries, part headers, the other form fields) on top of the archive itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class ArchiveSizeLimitHandler(FileUploadHandler):
    """First in the handler chain: counts file bytes as they arrive and stops the upload past the limit.

    `exceeded` tells the view to answer 413; the bytes received so far are dropped with the request.
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = int(settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES)
        self.received = 0
        self.exceeded = False

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> tuple[QueryDict, MultiValueDict] | None:
        if content_length and content_length > self.limit + MULTIPART_OVERHEAD_BYTES:
            self.exceeded = True
            return QueryDict(), MultiValueDict()  # declared too large: parse nothing, read nothing
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data  # passed on to the next handler, which stores it

    def file_complete(self, file_size: int) -> None:
        return None


def install_archive_limit(request: HttpRequest) -> ArchiveSizeLimitHandler:
    """Put the limit in front of Django's handlers; call before anything reads request.POST / FILES."""
    handler = ArchiveSizeLimitHandler(request)
    request.upload_handlers.insert(0, handler)
    return handler


def declared_body_too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > int(settings.MSAV_ARCHIVE_MAX_UPLOAD_BYTES) + MULTIPART_OVERHEAD_BYTES
