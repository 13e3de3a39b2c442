"""Helpers for the resumable-upload tests: a connection that really drops in the middle of a chunk."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

import requests


def send_truncated_chunk(base_url: str, upload_id: str, token: str, data: bytes, start: int, total: int, sent: int) -> None:
    """PATCH a chunk announcing all of `data` (Content-Length, Content-Range), send only its first `sent`
    bytes, then close the socket: what a dropped Wi-Fi or a killed client does to an upload."""
    parsed = urlparse(base_url)
    head = (
        f"PATCH /api/uploads/{upload_id}/ HTTP/1.1\r\n"
        f"Host: {parsed.hostname}:{parsed.port}\r\n"
        f"Authorization: Token {token}\r\n"
        "Content-Type: application/octet-stream\r\n"
        f"Content-Length: {len(data)}\r\n"
        f"Content-Range: bytes {start}-{start + len(data) - 1}/{total}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as raw:
        raw.sendall(head + data[:sent])
        raw.shutdown(socket.SHUT_WR)  # the rest never comes
        try:
            raw.recv(65536)  # whatever the server answers (it may be nothing)
        except OSError:
            pass


def wait_for_offset(base_url: str, upload_id: str, token: str, expected: int, timeout: float = 20) -> int:
    deadline = time.monotonic() + timeout
    offset = -1
    while time.monotonic() < deadline:
        response = requests.head(f"{base_url}/api/uploads/{upload_id}/", headers={"Authorization": f"Token {token}"}, timeout=10)
        offset = int(response.headers["Upload-Offset"])
        if offset == expected:
            return offset
        time.sleep(0.1)
    raise AssertionError(f"upload offset stayed at {offset}, expected {expected}")
