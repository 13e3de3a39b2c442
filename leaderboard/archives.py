"""Hostile-input-safe reading of .zip / .tar.gz archives, streamed member by member (no Django here)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import stat
import struct
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from scoring.engine.script import CLIP_EXTENSIONS, MANIFEST_NAME, PROMPT_ID_PATTERN

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

ZIP = "zip"
TAR_GZ = "tar.gz"

# Member kinds as read from the archive's own metadata.
FILE = "file"
DIRECTORY = "directory"
SYMLINK = "symlink"
HARDLINK = "hardlink"
DEVICE = "device"
FIFO = "fifo"
OTHER = "other"

_COPY_CHUNK = 1 * MiB
_RAW_CHUNK = 64 * KiB
# A local zip header is 30 bytes plus name and extra field; a central directory entry is 46 plus name,
# extra and comment. 4 KiB per entry is far above what real tools write, and it bounds the memory
# zipfile spends parsing a directory before we can count its entries.
_MAX_CENTRAL_ENTRY_BYTES = 4 * KiB
# pax / GNU long-name headers are read into memory by tarfile; real ones are a few hundred bytes.
_MAX_TAR_META_BYTES = 64 * KiB
_JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
_JUNK_DIRS = frozenset({"__MACOSX"})
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_PROMPT_ID_RE = re.compile(PROMPT_ID_PATTERN)
_CLIP_EXTS_TEXT = ", ".join(CLIP_EXTENSIONS)

# Signatures of formats people upload by mistake, so the refusal can say what the file is.
_UNSUPPORTED_SIGNATURES = (
    (b"BZh", "a bzip2 file"),
    (b"\xfd7zXZ\x00", "an xz file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"(\xb5/\xfd", "a zstd file"),
)

# Archive-level messages (ArchiveError).
NOT_AN_ARCHIVE = "not a .zip or .tar.gz archive (it starts with neither the zip nor the gzip signature)"
UNSUPPORTED_ARCHIVE = "{what} is not accepted; upload a .zip or a .tar.gz"
PLAIN_TAR = "an uncompressed .tar is not accepted; upload a .zip or a .tar.gz"
EMPTY_FILE = "the file is empty, not an archive"
MISSING_FILE = "the archive file does not exist"
CORRUPT_ARCHIVE = "corrupt or truncated archive"
TOO_MANY_MEMBERS = "the archive has more members than the limit of {limit} members"
TOO_MANY_MEMBERS_DECLARED = "the archive declares {count} members, more than the limit of {limit} members"
DIRECTORY_TOO_LARGE = "the zip central directory is {size} bytes, too large for at most {limit} members"
TOTAL_TOO_LARGE = "the archive unpacks to more than {limit} (limit on the total unpacked size)"
TAR_HEADER_TOO_LARGE = "a tar extended header of {size} bytes is over the {limit} limit"
TAR_SPARSE = "sparse tar members are not accepted"
GZIP_TRUNCATED = "corrupt or truncated archive: the gzip stream ends early"
GZIP_TRAILING = "corrupt archive: unexpected data after the end of the gzip stream"
GZIP_CORRUPT = "corrupt archive: invalid gzip data ({detail})"
DEST_NOT_EMPTY = "the destination folder {dest} is not empty; extract_submission needs an empty folder"

# Member-level reasons (the member is refused, the archive goes on).
REASON_EMPTY_NAME = "member has an empty name"
REASON_NUL = "name contains a NUL byte"
REASON_CONTROL = "name contains control characters"
REASON_BACKSLASH = 'path contains a backslash ("\\"); only "/" separates folders'
REASON_ABSOLUTE = "path leaves the archive (absolute path)"
REASON_DRIVE = 'path leaves the archive (drive letter "{drive}")'
REASON_DOTDOT = 'path leaves the archive (contains "..")'
REASON_SYMLINK = "is a symbolic link; links are not accepted"
REASON_HARDLINK = "is a hard link; links are not accepted"
REASON_DEVICE = "is a device file; only regular files are accepted"
REASON_FIFO = "is a FIFO (named pipe); only regular files are accepted"
REASON_ENCRYPTED = "is encrypted; encrypted members are not accepted"
REASON_ZIP_METHOD = (
    "uses zip compression method {method}; only stored and deflate are accepted"
)
REASON_SHARED_DATA = 'shares its data with "{other}" (a hard link in zip form); links are not accepted'
REASON_OVERLAP = 'overlaps the data of "{other}" (a zip-bomb construction)'
REASON_TOO_LARGE = "is larger than the {limit} per-file limit"
REASON_TOO_LARGE_DECLARED = "declares {size}, over the {limit} per-file limit"
REASON_BOMB = "compression ratio is over {ratio}:1 (a compression bomb?)"
REASON_TOO_DEEP = "is nested too deep: clips sit at the archive root or inside one top-level folder"
REASON_WRONG_FOLDER = "is not in the clip folder {folder}; all clips sit in the same place"
REASON_NOT_A_CLIP = (
    'is not a clip of the suite: expected "<prompt id>.<ext>" with ext one of ' + _CLIP_EXTS_TEXT
)
REASON_UNKNOWN_PROMPT = 'names no prompt of the suite (no prompt "{stem}")'
REASON_WRONG_EXTENSION = 'has the extension "{ext}"; clips must be one of ' + _CLIP_EXTS_TEXT
REASON_DUPLICATE_MEMBER = "appears twice in the archive"
REASON_DUPLICATE_PROMPT = 'is a second clip for prompt "{prompt_id}" (also {other}); both are refused'
REASON_DUPLICATE_PROMPT_FIRST = 'prompt "{prompt_id}" has another clip, {other}; both are refused'
REASON_DUPLICATE_MANIFEST = "is a second manifest (also {other}); both are refused"
REASON_DUPLICATE_MANIFEST_FIRST = "the archive has another manifest, {other}; both are refused"
REASON_BAD_MANIFEST = "bad manifest: {problems}"


class ArchiveError(Exception):
    """The archive as a whole is refused; nothing it contained was kept."""


class MemberRefused(Exception):
    """One member is refused while being read; the reason does not name the member."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_clip_bytes: int = 200 * MiB
    max_total_bytes: int = 4 * GiB
    max_members: int = 200
    max_compression_ratio: int = 200
    max_manifest_bytes: int = 1 * MiB
    # Below this many unpacked bytes the ratio is not judged: tiny members compress absurdly well
    # without being a threat, and the byte caps already bound them.
    ratio_floor_bytes: int = 1 * MiB


@dataclass(frozen=True)
class AcceptedClip:
    member_name: str
    path: Path
    size_bytes: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "member_name": self.member_name,
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class RefusedMember:
    member_name: str
    reason: str  # names the member and says why, e.g. '"../a.mp4": path leaves the archive (...)'

    def to_dict(self) -> dict[str, Any]:
        return {"member_name": self.member_name, "reason": self.reason}


@dataclass(frozen=True)
class ArchiveReport:
    format: str  # ZIP or TAR_GZ, as detected from the bytes
    accepted: dict[str, AcceptedClip]
    refused: list[RefusedMember]
    ignored: list[str]
    missing_prompt_ids: list[str]
    manifest: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "accepted": {pid: clip.to_dict() for pid, clip in sorted(self.accepted.items())},
            "refused": [member.to_dict() for member in self.refused],
            "ignored": list(self.ignored),
            "missing_prompt_ids": list(self.missing_prompt_ids),
            "manifest": self.manifest,
        }


# ---------------------------------------------------------------------------------------------
# Shared low-level layer: also used by leaderboard.suite_format for suite archives.
# ---------------------------------------------------------------------------------------------


def format_bytes(count: int) -> str:
    """A byte count for messages: '200 MiB', '1.5 KiB', '12 bytes'."""
    if count < KiB:
        return f"{count} bytes"
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if count >= size:
            value = count / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{count} bytes"  # pragma: no cover - unreachable


def display_name(name: str) -> str:
    """The member name made safe for reports and JSON: undecodable bytes become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def quote_name(name: str) -> str:
    """The member name in double quotes with control characters escaped, for messages."""
    return json.dumps(display_name(name), ensure_ascii=False)


def member_path_problem(name: str) -> str | None:
    """Why this member path is unsafe to honour (it could leave the target folder), or None."""
    if name == "":
        return REASON_EMPTY_NAME
    if "\x00" in name:
        return REASON_NUL
    if "\\" in name:
        # Windows tools treat it as a separator, so it could smuggle ".." or a drive past us.
        return REASON_BACKSLASH
    if name.startswith("/"):
        return REASON_ABSOLUTE
    drive = _DRIVE_RE.match(name)
    if drive:
        return REASON_DRIVE.format(drive=drive.group(0))
    if ".." in name.split("/"):
        return REASON_DOTDOT
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return REASON_CONTROL
    return None


def member_path_parts(name: str) -> tuple[str, ...]:
    """The path components of a safe member name, without empty and '.' components."""
    return tuple(part for part in name.split("/") if part not in ("", "."))


def is_junk_path(parts: tuple[str, ...]) -> bool:
    """Files that archivers add on their own (macOS resource forks, Finder/Explorer metadata)."""
    if not parts:
        return False
    return any(part in _JUNK_DIRS for part in parts) or parts[-1] in _JUNK_NAMES or parts[-1].startswith("._")


def kind_reason(kind: str) -> str:
    """The refusal reason for a member that is not a regular file or a folder."""
    return {
        SYMLINK: REASON_SYMLINK,
        HARDLINK: REASON_HARDLINK,
        DEVICE: REASON_DEVICE,
        FIFO: REASON_FIFO,
    }.get(kind, "is not a regular file")


def detect_archive_format(path: Path) -> str:
    """ZIP or TAR_GZ from the file's first bytes (the name is not trusted); ArchiveError otherwise."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except FileNotFoundError:
        raise ArchiveError(MISSING_FILE) from None
    except IsADirectoryError:
        raise ArchiveError(NOT_AN_ARCHIVE) from None
    if not head:
        raise ArchiveError(EMPTY_FILE)
    # PK\x05\x06 is an empty zip (only an end record); PK\x07\x08 marks a split archive's first part.
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return ZIP
    if head[:2] == b"\x1f\x8b":
        return TAR_GZ
    if head[257:262] == b"ustar":
        raise ArchiveError(PLAIN_TAR)
    for signature, what in _UNSUPPORTED_SIGNATURES:
        if head.startswith(signature):
            raise ArchiveError(UNSUPPORTED_ARCHIVE.format(what=what))
    raise ArchiveError(NOT_AN_ARCHIVE)


@dataclass
class ArchiveMember:
    """One member as the archive describes it; `open()` streams its bytes (files only)."""

    name: str  # as stored in the archive, not normalised
    kind: str
    declared_size: int  # what the archive claims; a hint for early refusal, never trusted for safety
    problem: str | None  # a refusal found while scanning (encrypted, overlapping zip data, ...)
    _opener: Callable[[], IO[bytes]] | None
    _compressed_counter: Callable[[], int]

    def open(self) -> _GuardedReader:
        if self._opener is None:
            raise MemberRefused("has no data to read")
        try:
            return _GuardedReader(self._opener())
        except (ArchiveError, MemberRefused):
            raise
        except Exception as exc:  # hostile bytes can make the stdlib parsers raise almost anything
            raise ArchiveError(f"{CORRUPT_ARCHIVE}: {exc}") from exc

    def compressed_bytes_read(self) -> int:
        """Compressed bytes consumed from the archive so far (for the compression-ratio check)."""
        return self._compressed_counter()


class _GuardedReader:
    """Turns low-level decoding errors while reading a member into ArchiveError."""

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner

    def read(self, size: int = -1) -> bytes:
        try:
            return self._inner.read(size)
        except (ArchiveError, MemberRefused):
            raise
        except Exception as exc:  # CRC errors, truncation, zlib errors, ...
            raise ArchiveError(f"{CORRUPT_ARCHIVE}: {exc}") from exc

    def close(self) -> None:
        try:
            self._inner.close()
        except Exception:  # closing a half-read corrupt member must not hide the real error
            pass

    def __enter__(self) -> _GuardedReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def iter_archive_members(
    path: Path, archive_format: str, *, max_members: int, max_total_bytes: int
) -> Generator[ArchiveMember, None, None]:
    """Yield the members one at a time; archive-level limits raise ArchiveError as soon as they are hit.

    Use it inside `contextlib.closing(...)` so that the archive file is closed when the consumer stops.
    A member must be read (if at all) before asking for the next one: tar.gz is a forward-only stream.
    """
    if archive_format == ZIP:
        yield from _iter_zip(path, max_members=max_members, max_total_bytes=max_total_bytes)
    elif archive_format == TAR_GZ:
        yield from _iter_tar_gz(path, max_members=max_members, max_total_bytes=max_total_bytes)
    else:
        raise ValueError(f"unknown archive format {archive_format!r}")


def stream_member(
    member: ArchiveMember,
    sink: Callable[[bytes], object],
    *,
    max_bytes: int,
    max_ratio: int,
    ratio_floor: int,
) -> tuple[int, str]:
    """Pass the member's bytes to `sink` chunk by chunk, counting them as they come.

    Raises MemberRefused the moment the count passes `max_bytes` or the unpacked/compressed ratio
    passes `max_ratio` (judged once `ratio_floor` bytes are out), before the offending chunk reaches
    the sink. Returns (size, sha256 hex).
    """
    digest = hashlib.sha256()
    size = 0
    with member.open() as source:
        start = member.compressed_bytes_read()
        while True:
            chunk = source.read(_COPY_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise MemberRefused(REASON_TOO_LARGE.format(limit=format_bytes(max_bytes)))
            if size >= ratio_floor:
                consumed = max(member.compressed_bytes_read() - start, 1)
                if size > max_ratio * consumed:
                    raise MemberRefused(REASON_BOMB.format(ratio=max_ratio))
            digest.update(chunk)
            sink(chunk)
    return size, digest.hexdigest()


def copy_member_to(
    member: ArchiveMember, directory: Path, *, max_bytes: int, max_ratio: int, ratio_floor: int
) -> tuple[Path, int, str]:
    """Stream the member into a new temporary file in `directory`; returns (temp path, size, sha256).

    On any failure the temporary file is removed, so a refused member leaves no bytes on disk.
    """
    handle, temp_name = tempfile.mkstemp(dir=directory, prefix=".incoming-", suffix=".part")
    temp_path = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            size, sha256 = stream_member(
                member, out.write, max_bytes=max_bytes, max_ratio=max_ratio, ratio_floor=ratio_floor
            )
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    return temp_path, size, sha256


def read_member_bytes(member: ArchiveMember, *, max_bytes: int, max_ratio: int, ratio_floor: int) -> bytes:
    """The member's bytes in memory, under the same caps as `stream_member` (for small metadata files)."""
    parts: list[bytes] = []
    stream_member(member, parts.append, max_bytes=max_bytes, max_ratio=max_ratio, ratio_floor=ratio_floor)
    return b"".join(parts)


# --- zip -------------------------------------------------------------------------------------


class _CountingFile:
    """A seekable file wrapper counting the bytes read through it (compressed bytes, for zip)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.bytes_read += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def seekable(self) -> bool:
        return True


def _zip_end_record(raw: IO[bytes], size: int) -> tuple[int, int, int] | None:
    """(offset, entry count, central directory size) from the end record, found the way zipfile does."""
    end_size = 22
    if size < end_size:
        return None
    raw.seek(size - end_size)
    tail = raw.read(end_size)
    offset = size - end_size
    if tail[:4] != b"PK\x05\x06" or tail[-2:] != b"\x00\x00":
        start = max(size - end_size - 0xFFFF, 0)
        raw.seek(start)
        tail = raw.read()
        found = tail.rfind(b"PK\x05\x06")
        if found < 0 or len(tail) - found < end_size:
            return None
        offset = start + found
        tail = tail[found : found + end_size]
    _sig, _disk, _cd_disk, _here, entries, cd_size, _cd_offset, _comment = struct.unpack("<4s4H2LH", tail)
    if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and offset >= 20:
        raw.seek(offset - 20)
        locator = raw.read(20)
        if locator[:4] == b"PK\x06\x07":
            _sig, _disk, z64_offset, _disks = struct.unpack("<4sLQL", locator)
            raw.seek(z64_offset)
            record = raw.read(56)
            if len(record) == 56 and record[:4] == b"PK\x06\x06":
                fields = struct.unpack("<4sQ2H2L4Q", record)
                entries, cd_size = fields[7], fields[8]
    return offset, entries, cd_size


def _zip_precheck(raw: IO[bytes], size: int, max_members: int) -> None:
    """Refuse over-large directories before zipfile parses them all into memory."""
    end = _zip_end_record(raw, size)
    if end is None:
        return  # zipfile will report the archive as corrupt
    _offset, entries, cd_size = end
    if entries > max_members:
        raise ArchiveError(TOO_MANY_MEMBERS_DECLARED.format(count=entries, limit=max_members))
    if cd_size > max_members * _MAX_CENTRAL_ENTRY_BYTES:
        raise ArchiveError(DIRECTORY_TOO_LARGE.format(size=cd_size, limit=max_members))


def _zip_shared_data(raw: IO[bytes], infos: list[zipfile.ZipInfo]) -> dict[int, tuple[str, str]]:
    """Entries whose data is shared with or overlaps another entry's: {index: (kind, reason)}.

    Two directory entries pointing at one local header is how a zip spells a hard link; partially
    overlapping entries are the "better zip bomb" trick (Python 3.11 does not detect them itself).
    """
    spans: list[tuple[int, int, int]] = []
    for index, info in enumerate(infos):
        raw.seek(info.header_offset)
        head = raw.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            continue  # zipfile refuses it as corrupt when it is opened
        name_length, extra_length = struct.unpack("<HH", head[26:30])
        end = info.header_offset + 30 + name_length + extra_length + info.compress_size
        spans.append((info.header_offset, index, end))
    spans.sort()
    found: dict[int, tuple[str, str]] = {}
    owner_offset = -1
    owner_index = -1
    max_end = -1
    max_end_index = -1
    for offset, index, end in spans:
        if offset == owner_offset:
            other = display_name(infos[owner_index].orig_filename)
            found[index] = (HARDLINK, REASON_SHARED_DATA.format(other=other))
            continue
        if offset < max_end:
            other = display_name(infos[max_end_index].orig_filename)
            found[index] = (OTHER, REASON_OVERLAP.format(other=other))
            continue
        owner_offset, owner_index = offset, index
        if end > max_end:
            max_end, max_end_index = end, index
    return found


def _zip_kind(info: zipfile.ZipInfo) -> tuple[str, str | None]:
    mode = info.external_attr >> 16
    file_type = stat.S_IFMT(mode)
    if file_type == stat.S_IFLNK:
        return SYMLINK, None
    if file_type in (stat.S_IFCHR, stat.S_IFBLK):
        return DEVICE, None
    if file_type == stat.S_IFIFO:
        return FIFO, None
    if file_type == stat.S_IFSOCK:
        return OTHER, "is a socket; only regular files are accepted"
    if file_type == stat.S_IFDIR or info.orig_filename.endswith("/"):
        return DIRECTORY, None
    if info.flag_bits & 0x1:
        return FILE, REASON_ENCRYPTED
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # zipfile feeds bzip2/lzma decompressors without an output bound, so one small compressed
        # chunk could expand to gigabytes in memory; deflate is decompressed in bounded steps.
        return FILE, REASON_ZIP_METHOD.format(method=info.compress_type)
    return FILE, None


def _iter_zip(path: Path, *, max_members: int, max_total_bytes: int) -> Generator[ArchiveMember, None, None]:
    with open(path, "rb") as raw:
        _zip_precheck(raw, os.fstat(raw.fileno()).st_size, max_members)
        counter = _CountingFile(raw)
        try:
            archive = zipfile.ZipFile(counter)
            infos = archive.infolist()
        except Exception as exc:  # BadZipFile, struct.error, UnicodeDecodeError on hostile names ...
            raise ArchiveError(f"{CORRUPT_ARCHIVE}: {exc}") from exc
        with archive:
            if len(infos) > max_members:
                raise ArchiveError(TOO_MANY_MEMBERS.format(limit=max_members))
            # zipfile never returns more than the declared size of a member (it stops there and
            # fails the CRC), so the declared total bounds what can be unpacked.
            declared_total = sum(info.file_size for info in infos)
            if declared_total > max_total_bytes:
                raise ArchiveError(TOTAL_TOO_LARGE.format(limit=format_bytes(max_total_bytes)))
            shared = _zip_shared_data(raw, infos)
            for index, info in enumerate(infos):
                kind, problem = _zip_kind(info)
                if index in shared and kind in (FILE, DIRECTORY):
                    kind, problem = shared[index]
                yield ArchiveMember(
                    name=info.orig_filename,
                    kind=kind,
                    declared_size=info.file_size,
                    problem=problem,
                    _opener=functools.partial(archive.open, info) if kind == FILE else None,
                    _compressed_counter=lambda: counter.bytes_read,
                )


# --- tar.gz ----------------------------------------------------------------------------------


class _GzipReader:
    """Decompresses a gzip stream on demand in bounded steps, counting bytes in and out.

    The output is capped (ArchiveError past `max_output`), CRC and length trailers are verified,
    concatenated gzip members are followed, and anything else after the end is refused.
    """

    def __init__(self, raw: IO[bytes], max_output: int) -> None:
        self._raw = raw
        self._max_output = max_output
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self._done = False
        self.compressed_read = 0
        self.output = 0

    @property
    def compressed_consumed(self) -> int:
        unused = len(self._inflater.unused_data) if self._inflater.eof else 0
        return self.compressed_read - len(self._pending) - unused

    def _read_raw(self) -> bytes:
        data = self._raw.read(_RAW_CHUNK)
        self.compressed_read += len(data)
        return data

    def _next_member(self) -> None:
        rest = self._inflater.unused_data
        while True:
            rest = rest.lstrip(b"\x00")  # some writers pad the file with NULs after the last member
            if len(rest) >= 2:
                break
            more = self._read_raw()
            if not more:
                if rest:
                    raise ArchiveError(GZIP_TRAILING)
                self._done = True
                return
            rest += more
        if rest[:2] != b"\x1f\x8b":
            raise ArchiveError(GZIP_TRAILING)
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = rest

    def read(self, size: int = -1) -> bytes:
        want = size if size is not None and size >= 0 else _COPY_CHUNK
        pieces: list[bytes] = []
        while want > 0 and not self._done:
            if self._inflater.eof:
                self._next_member()
                continue
            data = self._pending or self._read_raw()
            if not data:
                raise ArchiveError(GZIP_TRUNCATED)
            try:
                piece = self._inflater.decompress(data, want)
            except zlib.error as exc:
                raise ArchiveError(GZIP_CORRUPT.format(detail=exc)) from exc
            self._pending = self._inflater.unconsumed_tail
            self.output += len(piece)
            if self.output > self._max_output:
                raise ArchiveError(TOTAL_TOO_LARGE.format(limit=format_bytes(self._max_output)))
            pieces.append(piece)
            want -= len(piece)
            if size is None or size < 0:
                want = _COPY_CHUNK  # read-all: keep going until the end
        return b"".join(pieces)

    def drain(self) -> None:
        """Read to the end, so that the CRC trailer is checked and trailing garbage is noticed."""
        while self.read(_COPY_CHUNK):
            pass


class _SafeTarInfo(tarfile.TarInfo):
    """TarInfo that refuses oversized in-memory headers and sparse members before tarfile reads them."""

    def _proc_member(self, tarfile_obj: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise ArchiveError(TAR_SPARSE)
        if self.type in (
            tarfile.GNUTYPE_LONGNAME,
            tarfile.GNUTYPE_LONGLINK,
            tarfile.XHDTYPE,
            tarfile.XGLTYPE,
            tarfile.SOLARIS_XHDTYPE,
        ) and self.size > _MAX_TAR_META_BYTES:
            raise ArchiveError(
                TAR_HEADER_TOO_LARGE.format(size=self.size, limit=format_bytes(_MAX_TAR_META_BYTES))
            )
        # A documented extension point ("can be overridden in a subclass"), absent from typeshed.
        return cast(tarfile.TarInfo, super()._proc_member(tarfile_obj))  # type: ignore[misc]

    # pax-encoded sparse files (GNU.sparse.*): refused before tarfile walks their maps.
    def _proc_gnusparse_00(self, *args: Any) -> None:
        raise ArchiveError(TAR_SPARSE)

    def _proc_gnusparse_01(self, *args: Any) -> None:
        raise ArchiveError(TAR_SPARSE)

    def _proc_gnusparse_10(self, *args: Any) -> None:
        raise ArchiveError(TAR_SPARSE)


def _tar_kind(info: tarfile.TarInfo) -> tuple[str, str | None]:
    if info.isreg():
        return FILE, None
    if info.isdir():
        return DIRECTORY, None
    if info.issym():
        return SYMLINK, None
    if info.islnk():
        return HARDLINK, None
    if info.ischr() or info.isblk():
        return DEVICE, None
    if info.isfifo():
        return FIFO, None
    return OTHER, f"has the unsupported tar member type {info.type!r}"


def _iter_tar_gz(path: Path, *, max_members: int, max_total_bytes: int) -> Generator[ArchiveMember, None, None]:
    with open(path, "rb") as raw:
        # Headers (512 bytes each, plus bounded pax/long-name blocks) and end padding come on top of
        # the member data; the member sizes below are the real check, this cap is the backstop.
        overhead = max_members * (2 * _MAX_TAR_META_BYTES + 3 * 512) + 64 * KiB
        stream = _GzipReader(raw, max_output=max_total_bytes + overhead)
        try:
            # Stream mode: forward-only, no seeking back, no member index built from untrusted data.
            archive = tarfile.open(fileobj=stream, mode="r|", tarinfo=_SafeTarInfo)  # type: ignore[call-overload]
        except ArchiveError:
            raise
        except Exception as exc:
            raise ArchiveError(f"{CORRUPT_ARCHIVE}: {exc}") from exc
        with archive:
            count = 0
            total = 0
            while True:
                try:
                    info = archive.next()
                except ArchiveError:
                    raise
                except Exception as exc:  # ReadError, RecursionError on chained pax headers, ...
                    raise ArchiveError(f"{CORRUPT_ARCHIVE}: {exc}") from exc
                if info is None:
                    break
                count += 1
                if count > max_members:
                    raise ArchiveError(TOO_MANY_MEMBERS.format(limit=max_members))
                # In a tar the size field is exactly how many bytes follow, so it is the unpacked
                # size (tarfile skips that much for regular and unknown member types).
                if info.isreg() or info.type not in tarfile.SUPPORTED_TYPES:
                    total += info.size
                    if total > max_total_bytes:
                        raise ArchiveError(TOTAL_TOO_LARGE.format(limit=format_bytes(max_total_bytes)))
                kind, problem = _tar_kind(info)
                yield ArchiveMember(
                    name=info.name,
                    kind=kind,
                    declared_size=info.size,
                    problem=problem,
                    _opener=functools.partial(archive.extractfile, info) if kind == FILE else None,
                    _compressed_counter=lambda: stream.compressed_consumed,
                )
        stream.drain()


# ---------------------------------------------------------------------------------------------
# Submission archives
# ---------------------------------------------------------------------------------------------

_MANIFEST_KEY = "\x00manifest"  # claim key of the manifest; cannot collide with a prompt id


def validate_manifest(data: Any, prompt_ids: set[str]) -> list[str]:
    """Problems with a parsed manifest.json: {"model": str, "notes": str, "clips": {prompt id: {...}}}."""
    if not isinstance(data, dict):
        return [f"must be a JSON object, got {json_type(data)}"]
    problems: list[str] = []
    for key in data:
        if key not in ("model", "notes", "clips"):
            problems.append(f'unknown key "{key}" (allowed: model, notes, clips)')
    if "model" not in data:
        problems.append('"model" is missing')
    elif not isinstance(data["model"], str) or not data["model"].strip():
        problems.append(f'"model" must be a non-empty string, got {json_type(data["model"])}')
    if "notes" in data and not isinstance(data["notes"], str):
        problems.append(f'"notes" must be a string, got {json_type(data["notes"])}')
    clips = data.get("clips", {})
    if not isinstance(clips, dict):
        problems.append(f'"clips" must be an object, got {json_type(clips)}')
        return problems
    for prompt_id, entry in clips.items():
        where = f'"clips"."{prompt_id}"'
        if prompt_id not in prompt_ids:
            problems.append(f"{where}: no such prompt in the suite")
        if not isinstance(entry, dict):
            problems.append(f"{where} must be an object, got {json_type(entry)}")
            continue
        seed = entry.get("seed")
        if "seed" in entry and (not isinstance(seed, int) or isinstance(seed, bool)):
            problems.append(f'{where}."seed" must be an integer, got {json_type(seed)}')
    return problems


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages ("number", "array", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class _SubmissionExtractor:
    """Decides member by member; writes accepted clips into `dest` and remembers what it wrote."""

    def __init__(self, prompt_ids: set[str], dest: Path, limits: ArchiveLimits) -> None:
        self.prompt_ids = prompt_ids
        self.dest = dest
        self.limits = limits
        self.accepted: dict[str, AcceptedClip] = {}
        self.refused: list[RefusedMember] = []
        self.ignored: list[str] = []
        self.manifest: dict[str, Any] | None = None
        self._manifest_member: str | None = None
        self._claims: dict[str, str] = {}  # prompt id (or manifest key) -> first member name claiming it
        self._seen_paths: set[str] = set()
        self._folder: str | None = None  # "" = archive root; set by the first valid clip or manifest

    def refuse(self, name: str, reason: str) -> None:
        self.refused.append(RefusedMember(display_name(name), f"{quote_name(name)}: {reason}"))

    def handle(self, member: ArchiveMember) -> None:
        name = member.name
        path_problem = member_path_problem(name)
        if path_problem:
            self.refuse(name, path_problem)
            return
        if member.kind not in (FILE, DIRECTORY):
            self.refuse(name, member.problem or kind_reason(member.kind))
            return
        parts = member_path_parts(name)
        if member.kind == DIRECTORY or not parts or is_junk_path(parts):
            self.ignored.append(display_name(name))
            return
        if member.problem:
            self.refuse(name, member.problem)
            return
        normalized = "/".join(parts)
        if normalized in self._seen_paths:
            self.refuse(name, REASON_DUPLICATE_MEMBER)
            self._withdraw_claim(normalized, name)
            return
        self._seen_paths.add(normalized)
        if len(parts) > 2:
            self.refuse(name, REASON_TOO_DEEP)
            return
        basename = parts[-1]
        if basename == MANIFEST_NAME:
            claim, extension = _MANIFEST_KEY, ""
        else:
            stem, dot, suffix = basename.rpartition(".")
            extension = "." + suffix.lower()
            if not dot or not _PROMPT_ID_RE.match(stem):
                self.refuse(name, REASON_NOT_A_CLIP)
                return
            if stem not in self.prompt_ids:
                reason = REASON_UNKNOWN_PROMPT if extension in CLIP_EXTENSIONS else REASON_NOT_A_CLIP
                self.refuse(name, reason.format(stem=stem))
                return
            if extension not in CLIP_EXTENSIONS:
                self.refuse(name, REASON_WRONG_EXTENSION.format(ext="." + suffix))
                return
            claim = stem
        folder = parts[0] if len(parts) == 2 else ""
        if self._folder is None:
            self._folder = folder
        elif folder != self._folder:
            where = f'"{self._folder}/"' if self._folder else "(the archive root)"
            self.refuse(name, REASON_WRONG_FOLDER.format(folder=where))
            return
        if claim in self._claims:
            self._refuse_duplicate_claim(claim, name)
            return
        self._claims[claim] = name
        if claim == _MANIFEST_KEY:
            self._read_manifest(member)
        else:
            self._write_clip(member, claim, extension)

    def _withdraw_claim(self, normalized: str, name: str) -> None:
        """A member repeated under the same path: whatever the first copy claimed is withdrawn too."""
        basename = normalized.rsplit("/", 1)[-1]
        claim = _MANIFEST_KEY if basename == MANIFEST_NAME else basename.rpartition(".")[0]
        first = self._claims.get(claim)
        # Only if that claim was made by the earlier copy of this very path (not by another member).
        if first is not None and "/".join(member_path_parts(first)) == normalized:
            self._refuse_duplicate_claim(claim, name, refuse_current=False)

    def _refuse_duplicate_claim(self, claim: str, name: str, *, refuse_current: bool = True) -> None:
        first = self._claims[claim]
        if claim == _MANIFEST_KEY:
            if refuse_current:
                self.refuse(name, REASON_DUPLICATE_MANIFEST.format(other=quote_name(first)))
            if self.manifest is not None and self._manifest_member == first:
                self.manifest = None
                self.refuse(first, REASON_DUPLICATE_MANIFEST_FIRST.format(other=quote_name(name)))
            return
        if refuse_current:
            self.refuse(name, REASON_DUPLICATE_PROMPT.format(prompt_id=claim, other=quote_name(first)))
        clip = self.accepted.pop(claim, None)
        if clip is not None:
            # Which of the two the researcher meant is unknowable (zip and tar tools disagree on
            # whether the first or the last copy wins), so neither is scored.
            clip.path.unlink(missing_ok=True)
            self.refuse(first, REASON_DUPLICATE_PROMPT_FIRST.format(prompt_id=claim, other=quote_name(name)))

    def _read_manifest(self, member: ArchiveMember) -> None:
        limits = self.limits
        if member.declared_size > limits.max_manifest_bytes:
            self.refuse(
                member.name,
                REASON_TOO_LARGE_DECLARED.format(
                    size=format_bytes(member.declared_size), limit=format_bytes(limits.max_manifest_bytes)
                ),
            )
            return
        try:
            payload = read_member_bytes(
                member,
                max_bytes=limits.max_manifest_bytes,
                max_ratio=limits.max_compression_ratio,
                ratio_floor=limits.ratio_floor_bytes,
            )
        except MemberRefused as refusal:
            self.refuse(member.name, str(refusal))
            return
        try:
            data = json.loads(payload.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            self.refuse(member.name, REASON_BAD_MANIFEST.format(problems=f"not UTF-8 text (byte {exc.start})"))
            return
        except json.JSONDecodeError as exc:
            detail = f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            self.refuse(member.name, REASON_BAD_MANIFEST.format(problems=detail))
            return
        problems = validate_manifest(data, self.prompt_ids)
        if problems:
            self.refuse(member.name, REASON_BAD_MANIFEST.format(problems="; ".join(problems)))
            return
        self.manifest = data
        self._manifest_member = member.name

    def _write_clip(self, member: ArchiveMember, prompt_id: str, extension: str) -> None:
        limits = self.limits
        if member.declared_size > limits.max_clip_bytes:
            self.refuse(
                member.name,
                REASON_TOO_LARGE_DECLARED.format(
                    size=format_bytes(member.declared_size), limit=format_bytes(limits.max_clip_bytes)
                ),
            )
            return
        try:
            temp_path, size, sha256 = copy_member_to(
                member,
                self.dest,
                max_bytes=limits.max_clip_bytes,
                max_ratio=limits.max_compression_ratio,
                ratio_floor=limits.ratio_floor_bytes,
            )
        except MemberRefused as refusal:
            self.refuse(member.name, str(refusal))
            return
        final_path = self.dest / f"{prompt_id}{extension}"
        os.replace(temp_path, final_path)  # appears under its real name only once complete
        self.accepted[prompt_id] = AcceptedClip(display_name(member.name), final_path, size, sha256)

    def report(self, archive_format: str) -> ArchiveReport:
        return ArchiveReport(
            format=archive_format,
            accepted=dict(self.accepted),
            refused=list(self.refused),
            ignored=list(self.ignored),
            missing_prompt_ids=sorted(self.prompt_ids - self.accepted.keys()),
            manifest=self.manifest,
        )

    def clean_up(self) -> None:
        for clip in self.accepted.values():
            clip.path.unlink(missing_ok=True)
        self.accepted.clear()


def extract_submission(
    archive: Path,
    *,
    prompt_ids: set[str],
    dest: Path,
    limits: ArchiveLimits = ArchiveLimits(),
) -> ArchiveReport:
    """Stream a submission archive into `dest` as `<prompt id>.<ext>` files and report on every member.

    `dest` must be missing or empty. Refused members are reported and leave no bytes on disk.
    Archive-level violations raise ArchiveError and leave `dest` as it was (removed if we created it).
    Media are not probed here.
    """
    archive = Path(archive)
    dest = Path(dest).absolute()
    archive_format = detect_archive_format(archive)
    created = not dest.exists()
    if not created and any(dest.iterdir()):
        raise ValueError(DEST_NOT_EMPTY.format(dest=dest))
    dest.mkdir(parents=True, exist_ok=True)
    extractor = _SubmissionExtractor(set(prompt_ids), dest, limits)
    try:
        members = iter_archive_members(
            archive, archive_format, max_members=limits.max_members, max_total_bytes=limits.max_total_bytes
        )
        with closing(members):
            for member in members:
                extractor.handle(member)
    except BaseException:
        extractor.clean_up()
        for leftover in dest.glob(".incoming-*.part"):  # belt and braces: temp files are removed on refusal
            leftover.unlink(missing_ok=True)
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        raise
    return extractor.report(archive_format)
