"""Builders for the format tests: tiny valid media, the example suite, and hand-crafted (hostile) archives."""

from __future__ import annotations

import io
import json
import shutil
import stat
import struct
import tarfile
import wave
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXAMPLE_SUITE = Path("/work/shared/spec/example-suite.json")


def png_bytes() -> bytes:
    """A valid 1x1 grayscale PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def wav_bytes() -> bytes:
    """A valid 10 ms mono 16-bit WAV of silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 80)
    return buffer.getvalue()


def write_example_suite(folder: Path) -> Path:
    """The spec's example suite plus the reference files it names, as tiny valid PNG/WAV files."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLE_SUITE, folder / "suite.json")
    (folder / "references").mkdir(exist_ok=True)
    (folder / "references" / "woman.png").write_bytes(png_bytes())
    (folder / "references" / "woman.wav").write_bytes(wav_bytes())
    return folder


def edit_suite_json(folder: Path, change: Callable[[dict[str, Any]], object]) -> None:
    data = json.loads((folder / "suite.json").read_text())
    change(data)
    (folder / "suite.json").write_text(json.dumps(data, indent=2))


# --- archives ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One archive member: kind is file, dir, symlink, hardlink, fifo or chardev."""

    name: str
    data: bytes = b""
    kind: str = "file"
    target: str = ""
    stored: bool = False  # zip: store instead of deflate (so corruption shows as a CRC error)


def file(name: str, data: bytes | str = b"clip") -> Entry:
    return Entry(name, data.encode() if isinstance(data, str) else data)


_ZIP_MODES = {
    "file": stat.S_IFREG | 0o644,
    "dir": stat.S_IFDIR | 0o755,
    "symlink": stat.S_IFLNK | 0o777,
    "fifo": stat.S_IFIFO | 0o644,
    "chardev": stat.S_IFCHR | 0o644,
}


def make_zip(path: Path, entries: list[Entry]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for entry in entries:
            if entry.kind == "hardlink":
                raise ValueError("zip has no hard links; use make_zip_with_shared_entry")
            info = zipfile.ZipInfo(entry.name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = _ZIP_MODES[entry.kind] << 16
            if entry.kind == "dir":
                info.external_attr |= 0x10
            info.compress_type = zipfile.ZIP_STORED if entry.stored or entry.kind != "file" else zipfile.ZIP_DEFLATED
            payload = entry.target.encode() if entry.kind == "symlink" else entry.data
            archive.writestr(info, payload)
    return path


def make_tgz(path: Path, entries: list[Entry], *, pax_headers: dict[str, str] | None = None) -> Path:
    types = {
        "file": tarfile.REGTYPE,
        "dir": tarfile.DIRTYPE,
        "symlink": tarfile.SYMTYPE,
        "hardlink": tarfile.LNKTYPE,
        "fifo": tarfile.FIFOTYPE,
        "chardev": tarfile.CHRTYPE,
    }
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type = types[entry.kind]
            info.mtime = 1_700_000_000
            info.linkname = entry.target
            if pax_headers:
                info.pax_headers = dict(pax_headers)
            if entry.kind == "file":
                info.size = len(entry.data)
                archive.addfile(info, io.BytesIO(entry.data))
            else:
                archive.addfile(info)
    return path


def make_archive(path_stem: Path, fmt: str, entries: list[Entry]) -> Path:
    if fmt == "zip":
        return make_zip(path_stem.with_suffix(".zip"), entries)
    return make_tgz(path_stem.with_suffix(".tar.gz"), entries)


def make_zip_with_shared_entry(path: Path, name: str, data: bytes, alias: str) -> Path:
    """A zip whose central directory lists `name` and `alias` at the same local header: a zip "hard link"."""
    make_zip(path, [Entry(name, data, stored=True)])
    blob = path.read_bytes()
    end = blob.rindex(b"PK\x05\x06")
    _sig, _disk, _cd_disk, _here, _total, cd_size, cd_offset, _comment = struct.unpack(
        "<4s4H2LH", blob[end : end + 22]
    )
    entry = blob[cd_offset : cd_offset + cd_size]
    name_length = struct.unpack("<H", entry[28:30])[0]
    alias_bytes = alias.encode()
    alias_entry = entry[:28] + struct.pack("<H", len(alias_bytes)) + entry[30:46] + alias_bytes + entry[46 + name_length :]
    directory = entry + alias_entry
    end_record = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 2, 2, len(directory), cd_offset, 0)
    path.write_bytes(blob[:cd_offset] + directory + end_record)
    return path


def zeros(size: int) -> bytes:
    return bytes(size)


def make_zip_with_overlap(path: Path, outer: str, inner: str, inner_data: bytes) -> Path:
    """A zip whose `inner` entry lies inside the stored data of `outer` (the overlapping-entries bomb trick)."""
    inner_zip = make_zip(path.with_suffix(".inner.zip"), [Entry(inner, inner_data, stored=True)])
    blob = inner_zip.read_bytes()
    inner_zip.unlink()
    end = blob.rindex(b"PK\x05\x06")
    _sig, _d, _cd, _here, _total, cd_size, cd_offset, _c = struct.unpack("<4s4H2LH", blob[end : end + 22])
    inner_local, inner_central = blob[:cd_offset], blob[cd_offset : cd_offset + cd_size]
    make_zip(path, [Entry(outer, inner_local, stored=True)])  # outer's data *is* inner's header + data
    outer_blob = path.read_bytes()
    end = outer_blob.rindex(b"PK\x05\x06")
    _sig, _d, _cd, _here, _total, cd_size, cd_offset, _c = struct.unpack("<4s4H2LH", outer_blob[end : end + 22])
    inner_offset = 30 + len(outer.encode())  # right after outer's local header
    inner_central = inner_central[:42] + struct.pack("<L", inner_offset) + inner_central[46:]
    directory = outer_blob[cd_offset : cd_offset + cd_size] + inner_central
    end_record = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 2, 2, len(directory), cd_offset, 0)
    path.write_bytes(outer_blob[:cd_offset] + directory + end_record)
    return path
