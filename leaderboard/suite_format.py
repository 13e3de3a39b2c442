"""Suite importer: load a suite folder / .zip / .tar.gz, report every format problem, build a SuiteSpec."""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from leaderboard.archives import (
    DIRECTORY,
    FILE,
    GiB,
    MiB,
    ArchiveError,
    MemberRefused,
    copy_member_to,
    detect_archive_format,
    format_bytes,
    is_junk_path,
    iter_archive_members,
    json_type,
    kind_reason,
    member_path_parts,
    member_path_problem,
)
from scoring.engine.script import (
    AUDIO_CLASSES,
    CAMERA_ANGLES,
    CAMERA_MOTIONS,
    CATEGORIES,
    DEFAULT_DURATION_S,
    IMAGE_EXTENSIONS,
    MAX_SHOTS,
    PROMPT_ID_PATTERN,
    REALISM_VALUES,
    REFERENCE_KINDS,
    RUBRIC_METRICS,
    SHOT_AUDIO_KEYS,
    SHOT_SCALES,
    TRANSITIONS,
    VOICE_EXTENSIONS,
    SuiteSpec,
    prompt_from_dict,
)

SUITE_JSON = "suite.json"

SUITE_KEYS_REQUIRED = ("name", "version", "prompts")
SUITE_KEYS_OPTIONAL = ("description",)
PROMPT_KEYS_REQUIRED = ("id", "category", "style", "subject_realism", "scene_realism", "script", "shots")
PROMPT_KEYS_OPTIONAL = ("languages", "audio_classes", "duration_s", "references", "rubric")
SHOT_KEYS_REQUIRED = (
    "start_s",
    "end_s",
    "caption",
    "shot_scale",
    "camera_angle",
    "camera_motion",
    "transition_in",
)
SHOT_KEYS_OPTIONAL = ("lighting", "audio", "on_screen_text")
REFERENCE_KEYS_REQUIRED = ("kind", "file", "name")
REFERENCE_KEYS_OPTIONAL = ("shots",)
QUESTION_KEYS_REQUIRED = ("id", "metric", "question", "choices", "answer")
QUESTION_KEYS_OPTIONAL = ("shots",)

# Which extensions fit which reference kind, and the signature each file must start with.
REFERENCE_EXTENSIONS = {"subject": IMAGE_EXTENSIONS, "scene": IMAGE_EXTENSIONS, "voice": VOICE_EXTENSIONS}

SUITE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
# BCP-47-looking: a 2-3 letter primary language, then subtags (script, region, variant).
LANGUAGE_TAG_PATTERN = r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$"
_SUITE_NAME_RE = re.compile(SUITE_NAME_PATTERN)
_LANGUAGE_RE = re.compile(LANGUAGE_TAG_PATTERN)
_PROMPT_ID_RE = re.compile(PROMPT_ID_PATTERN)

# Messages.
MSG_MISSING = "missing (required)"
MSG_NOT_FOUND_SUITE_JSON = f"{SUITE_JSON} not found in the suite folder"
MSG_NOT_FOUND_IN_ARCHIVE = f"{SUITE_JSON} not found at the archive root or inside a single top-level folder"
MSG_NOT_A_SUITE = "not a suite folder, .zip or .tar.gz"
MSG_PATH_MISSING = "does not exist"
MSG_SUITE_JSON_TOO_LARGE = "is {size}, over the {limit} limit"
MSG_SUITE_JSON_ESCAPES = "is a link that leaves the suite folder"
MSG_NOT_UTF8 = "is not UTF-8 text (invalid byte at offset {offset})"
MSG_BAD_JSON = "invalid JSON at line {line}, column {column}: {detail}"
MSG_DUPLICATE_JSON_KEY = 'the key "{key}" appears twice in this object'
MSG_MEMBER_TOO_LARGE = "declares {size}, over the {limit} per-file limit"
MSG_MEMBER_TWICE = "appears twice in the archive"
MSG_MEMBER_CONFLICT = "conflicts with another member of the archive ({detail})"
MSG_NONE_NOT_FIRST = '"none" is only allowed on the first shot (use "hard-cut" for a plain cut)'


@dataclass(frozen=True)
class SuiteLimits:
    """Caps for suite archives (curators upload these; they hold reference images and voices)."""

    max_total_bytes: int = 2 * GiB
    max_members: int = 10_000
    max_file_bytes: int = 512 * MiB
    max_compression_ratio: int = 200
    max_suite_json_bytes: int = 16 * MiB
    ratio_floor_bytes: int = 1 * MiB


@dataclass(frozen=True)
class FormatProblem:
    file: str
    prompt_id: str | None
    field: str  # path inside the file, e.g. "shots[2].start_s"; list positions are 1-based
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.prompt_id is not None:
            parts.append(f'prompt "{self.prompt_id}"')
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)


class SuiteFormatError(Exception):
    """The suite is refused; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: Iterable[FormatProblem]) -> None:
        self.problems: list[FormatProblem] = list(problems)
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the suite"
        super().__init__("\n".join([header, *(f"  {problem}" for problem in self.problems)]))


@dataclass(frozen=True)
class LoadedSuite:
    spec: SuiteSpec
    root: Path  # the folder holding suite.json (inside workdir for archives)
    reference_files: dict[str, Path]  # "file" as written in suite.json -> absolute path
    raw: dict[str, Any]
    content_hash: str  # sha256 over canonical suite.json and the reference files' bytes


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def load_suite(path: Path, workdir: Path, *, limits: SuiteLimits = SuiteLimits()) -> LoadedSuite:
    """Load and validate a suite folder, .zip or .tar.gz; raises SuiteFormatError listing all problems.

    Archives are extracted safely into a fresh folder inside `workdir` (removed again on failure);
    a folder is read in place. Nothing outside `workdir` is written.
    """
    path = Path(path)
    if path.is_dir():
        return _load_root(path, limits)
    if not path.exists():
        raise SuiteFormatError([FormatProblem(path.name, None, "", MSG_PATH_MISSING)])
    try:
        archive_format = detect_archive_format(path)
    except ArchiveError as exc:
        raise SuiteFormatError([FormatProblem(path.name, None, "", f"{MSG_NOT_A_SUITE}: {exc}")]) from None
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    extract_dir = Path(tempfile.mkdtemp(prefix="suite-", dir=workdir)).absolute()
    try:
        problems = _extract_suite_archive(path, archive_format, extract_dir, limits)
        if problems:
            raise SuiteFormatError(problems)
        root = _find_suite_root(extract_dir)
        if root is None:
            raise SuiteFormatError([FormatProblem(path.name, None, "", MSG_NOT_FOUND_IN_ARCHIVE)])
        return _load_root(root, limits)
    except BaseException:
        shutil.rmtree(extract_dir, ignore_errors=True)
        raise


def _extract_suite_archive(
    archive: Path, archive_format: str, dest: Path, limits: SuiteLimits
) -> list[FormatProblem]:
    """Extract into `dest`; every unsafe member is a problem (the whole suite is then refused)."""
    problems: list[FormatProblem] = []

    def refuse(member_name: str, message: str) -> None:
        problems.append(FormatProblem(archive.name, None, member_name, message))

    seen: set[str] = set()
    dest_resolved = dest.resolve()
    try:
        members = iter_archive_members(
            archive, archive_format, max_members=limits.max_members, max_total_bytes=limits.max_total_bytes
        )
        with closing(members):
            for member in members:
                reason = member_path_problem(member.name)
                if reason is None and member.kind not in (FILE, DIRECTORY):
                    reason = member.problem or kind_reason(member.kind)
                if reason is None and member.kind == FILE and member.problem:
                    reason = member.problem
                if reason:
                    refuse(member.name, reason)
                    continue
                parts = member_path_parts(member.name)
                if member.kind == DIRECTORY or not parts or is_junk_path(parts):
                    continue  # folders are created as their files need them
                key = "/".join(parts)
                if key in seen:
                    refuse(member.name, MSG_MEMBER_TWICE)
                    continue
                seen.add(key)
                if member.declared_size > limits.max_file_bytes:
                    refuse(
                        member.name,
                        MSG_MEMBER_TOO_LARGE.format(
                            size=format_bytes(member.declared_size), limit=format_bytes(limits.max_file_bytes)
                        ),
                    )
                    continue
                if problems:
                    continue  # the suite is refused already: keep scanning to report all, stop writing
                target = dest.joinpath(*parts)
                if not target.resolve().is_relative_to(dest_resolved):  # defence in depth
                    refuse(member.name, "path leaves the archive")
                    continue
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    temp_path, _size, _sha = copy_member_to(
                        member,
                        target.parent,
                        max_bytes=limits.max_file_bytes,
                        max_ratio=limits.max_compression_ratio,
                        ratio_floor=limits.ratio_floor_bytes,
                    )
                except MemberRefused as refusal:
                    refuse(member.name, str(refusal))
                    continue
                except OSError as exc:  # a file where a folder must go, and the like
                    refuse(member.name, MSG_MEMBER_CONFLICT.format(detail=exc.strerror or exc))
                    continue
                try:
                    os.replace(temp_path, target)
                except OSError as exc:
                    temp_path.unlink(missing_ok=True)
                    refuse(member.name, MSG_MEMBER_CONFLICT.format(detail=exc.strerror or exc))
    except ArchiveError as exc:
        return [FormatProblem(archive.name, None, "", str(exc))]
    return problems


def _find_suite_root(extract_dir: Path) -> Path | None:
    """suite.json at the archive root, or inside its single top-level folder."""
    if (extract_dir / SUITE_JSON).is_file():
        return extract_dir
    entries = [entry for entry in extract_dir.iterdir() if not is_junk_path((entry.name,))]
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / SUITE_JSON).is_file():
        return entries[0]
    return None


class _JSONObject(dict):  # type: ignore[type-arg]
    """A JSON object that remembers keys given twice (json.loads would silently keep the last)."""

    duplicate_keys: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _JSONObject:
    obj = _JSONObject()
    duplicates = []
    for key, value in pairs:
        if key in obj:
            duplicates.append(key)
        obj[key] = value
    obj.duplicate_keys = tuple(duplicates)
    return obj


def _load_root(root: Path, limits: SuiteLimits) -> LoadedSuite:
    root = root.absolute()
    suite_json = root / SUITE_JSON

    def fail(field: str, message: str) -> SuiteFormatError:
        return SuiteFormatError([FormatProblem(SUITE_JSON, None, field, message)])

    if not suite_json.is_file():
        raise fail("", MSG_NOT_FOUND_SUITE_JSON)
    if not suite_json.resolve().is_relative_to(root.resolve()):
        raise fail("", MSG_SUITE_JSON_ESCAPES)
    size = suite_json.stat().st_size
    if size > limits.max_suite_json_bytes:
        raise fail(
            "", MSG_SUITE_JSON_TOO_LARGE.format(size=format_bytes(size), limit=format_bytes(limits.max_suite_json_bytes))
        )
    payload = suite_json.read_bytes()
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail("", MSG_NOT_UTF8.format(offset=exc.start)) from None
    try:
        raw = json.loads(text, object_pairs_hook=_object_pairs)
    except json.JSONDecodeError as exc:
        raise fail("", MSG_BAD_JSON.format(line=exc.lineno, column=exc.colno, detail=exc.msg)) from None
    except RecursionError:
        raise fail("", "invalid JSON: nested too deeply") from None

    problems, reference_files = validate_suite(raw, root)
    if problems:
        raise SuiteFormatError(problems)
    # Plain dicts from here on (the validator's duplicate-key bookkeeping is not part of the data).
    canonical = _canonical_json(raw)
    raw_plain: dict[str, Any] = json.loads(canonical)
    spec = SuiteSpec(
        name=raw_plain["name"],
        version=raw_plain["version"],
        description=raw_plain.get("description", ""),
        prompts=tuple(prompt_from_dict(prompt) for prompt in raw_plain["prompts"]),
    )
    return LoadedSuite(
        spec=spec,
        root=root,
        reference_files=reference_files,
        raw=raw_plain,
        content_hash=suite_content_hash(canonical, reference_files),
    )


def _canonical_json(raw: Any) -> bytes:
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def suite_content_hash(canonical_suite_json: bytes, reference_files: dict[str, Path]) -> str:
    """sha256 over canonical suite.json and every reference file, each length-prefixed so that no two
    different suites can produce the same byte stream; identical for a folder and its archives."""
    digest = hashlib.sha256()
    digest.update(SUITE_JSON.encode() + b"\x00" + len(canonical_suite_json).to_bytes(8, "big"))
    digest.update(canonical_suite_json)
    for name in sorted(reference_files):
        path = reference_files[name]
        digest.update(name.encode("utf-8") + b"\x00" + path.stat().st_size.to_bytes(8, "big"))
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(MiB), b""):
                digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    """A value as JSON for messages, cut short."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _show_number(value: float) -> str:
    return repr(float(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hint(value: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


# File signatures: a reference must be what its extension says.
def _looks_like(extension: str, head: bytes) -> bool:
    if extension == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in (".jpg", ".jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if extension == ".wav":
        return head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE"
    if extension == ".flac":
        return head.startswith(b"fLaC")
    if extension == ".mp3":
        return head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    return False


_CONTENT_NAMES = {
    ".png": "a PNG image",
    ".jpg": "a JPEG image",
    ".jpeg": "a JPEG image",
    ".wav": "a WAV file",
    ".flac": "a FLAC file",
    ".mp3": "an MP3 file",
}


class _Report:
    """Collects problems in one prompt (or at the suite level when prompt_id is None)."""

    def __init__(self, sink: list[FormatProblem], prompt_id: str | None, prefix: str = "") -> None:
        self.sink = sink
        self.prompt_id = prompt_id
        self.prefix = prefix  # "prompts[3]." when the prompt has no usable id

    def __call__(self, field: str, message: str) -> None:
        self.sink.append(FormatProblem(SUITE_JSON, self.prompt_id, self.prefix + field, message))

    # --- shared checks; each returns whether the value is usable ---

    def keys(self, obj: dict[str, Any], where: str, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
        allowed = required + optional
        dot = f"{where}." if where else ""
        for key in getattr(obj, "duplicate_keys", ()):
            self(f"{dot}{key}", MSG_DUPLICATE_JSON_KEY.format(key=key))
        for key in obj:
            if key not in allowed:
                self(f"{dot}{key}", f"unknown key{_hint(key, allowed)}; allowed keys: {', '.join(allowed)}")
        for key in required:
            if key not in obj:
                self(f"{dot}{key}", MSG_MISSING)

    def string(self, value: Any, field: str, *, non_empty: bool = True) -> bool:
        if not isinstance(value, str):
            self(field, f"must be a string, got {json_type(value)}")
            return False
        if non_empty and not value.strip():
            self(field, "must be a non-empty string")
            return False
        return True

    def choice(self, value: Any, field: str, allowed: tuple[str, ...]) -> bool:
        if not isinstance(value, str):
            self(field, f"must be one of {', '.join(allowed)}, got {json_type(value)}")
            return False
        if value not in allowed:
            self(field, f"must be one of {', '.join(allowed)}, got {_show(value)}{_hint(value, allowed)}")
            return False
        return True

    def number(self, value: Any, field: str) -> float | None:
        """The value as a float, or None (and a problem) when it is not a finite number."""
        if not _is_number(value):
            self(field, f"must be a number, got {json_type(value)}")
            return None
        if not math.isfinite(value):
            self(field, f"must be a finite number, got {value}")
            return None
        return float(value)

    def array(self, value: Any, field: str) -> TypeGuard[list[Any]]:
        if not isinstance(value, list):
            self(field, f"must be an array, got {json_type(value)}")
            return False
        return True

    def obj(self, value: Any, field: str) -> TypeGuard[dict[str, Any]]:
        if not isinstance(value, dict):
            self(field, f"must be an object, got {json_type(value)}")
            return False
        return True

    def shot_numbers(self, value: Any, field: str, shot_count: int | None) -> None:
        """A list of 1-based shot numbers within the prompt's shots (empty means all)."""
        if not self.array(value, field):
            return
        seen: set[int] = set()
        for position, number in enumerate(value, start=1):
            item = f"{field}[{position}]"
            if not _is_int(number):
                self(item, f"must be a shot number (an integer), got {json_type(number)}")
            elif shot_count is not None and not 1 <= number <= shot_count:
                self(item, f"must be a shot number between 1 and {shot_count}, got {number}")
            elif number in seen:
                self(item, f"shot {number} is listed twice")
            else:
                seen.add(number)


def validate_suite(raw: Any, root: Path) -> tuple[list[FormatProblem], dict[str, Path]]:
    """Every problem in parsed suite.json (reference files looked up under `root`), and the
    reference files found: {"file" as written -> absolute path}."""
    problems: list[FormatProblem] = []
    reference_files: dict[str, Path] = {}
    top = _Report(problems, None)
    if not isinstance(raw, dict):
        top("", f"must be a JSON object, got {json_type(raw)}")
        return problems, reference_files
    top.keys(raw, "", SUITE_KEYS_REQUIRED, SUITE_KEYS_OPTIONAL)
    if "name" in raw and top.string(raw["name"], "name") and not _SUITE_NAME_RE.match(raw["name"]):
        top(
            "name",
            f"must be a short slug (letters, digits, '.', '_', '-'; starting with a letter or digit), "
            f"got {_show(raw['name'])}",
        )
    if "version" in raw:
        top.string(raw["version"], "version")
    if "description" in raw:
        top.string(raw["description"], "description", non_empty=False)
    prompts = raw.get("prompts")
    if "prompts" not in raw or not top.array(prompts, "prompts"):
        return problems, reference_files
    if not prompts:
        top("prompts", "must list at least one prompt")
        return problems, reference_files

    first_position: dict[str, int] = {}
    resolved_root = root.resolve()
    for position, prompt in enumerate(prompts, start=1):
        where = f"prompts[{position}]"
        if not isinstance(prompt, dict):
            top(where, f"must be an object, got {json_type(prompt)}")
            continue
        prompt_id = prompt.get("id")
        if isinstance(prompt_id, str) and _PROMPT_ID_RE.match(prompt_id):
            report = _Report(problems, prompt_id)
            if prompt_id in first_position:
                report("id", f"duplicate prompt id (also prompts[{first_position[prompt_id]}]); ids must be unique")
            else:
                first_position[prompt_id] = position
        else:
            report = _Report(problems, None, prefix=f"{where}.")
            if "id" in prompt:
                if isinstance(prompt_id, str):
                    report("id", f"must match {PROMPT_ID_PATTERN} (letters, digits, '_', '-'), got {_show(prompt_id)}")
                else:
                    report("id", f"must be a string, got {json_type(prompt_id)}")
        _validate_prompt(prompt, report, root, resolved_root, reference_files)
    return problems, reference_files


def _validate_prompt(
    prompt: dict[str, Any],
    report: _Report,
    root: Path,
    resolved_root: Path,
    reference_files: dict[str, Path],
) -> None:
    report.keys(prompt, "", PROMPT_KEYS_REQUIRED, PROMPT_KEYS_OPTIONAL)
    if "category" in prompt:
        report.choice(prompt["category"], "category", CATEGORIES)
    if "style" in prompt:
        report.string(prompt["style"], "style")
    for key in ("subject_realism", "scene_realism"):
        if key in prompt:
            report.choice(prompt[key], key, REALISM_VALUES)
    if "languages" in prompt and report.array(prompt["languages"], "languages"):
        for position, tag in enumerate(prompt["languages"], start=1):
            field = f"languages[{position}]"
            if report.string(tag, field) and not _LANGUAGE_RE.match(tag):
                report(field, f'must be a BCP-47 language tag such as "en", "pt-BR" or "zh-Hans", got {_show(tag)}')
    if "audio_classes" in prompt and report.array(prompt["audio_classes"], "audio_classes"):
        for position, audio_class in enumerate(prompt["audio_classes"], start=1):
            report.choice(audio_class, f"audio_classes[{position}]", AUDIO_CLASSES)
    duration: float | None = DEFAULT_DURATION_S
    if "duration_s" in prompt:
        duration = report.number(prompt["duration_s"], "duration_s")
        if duration is not None and duration <= 0:
            report("duration_s", f"must be > 0, got {_show_number(duration)}")
            duration = None
    if "script" in prompt:
        report.string(prompt["script"], "script")

    shot_count: int | None = None
    shots = prompt.get("shots")
    if "shots" in prompt and report.array(shots, "shots"):
        shot_count = len(shots)
        if not shots:
            report("shots", "must list at least one shot")
        elif len(shots) > MAX_SHOTS:
            report("shots", f"must list at most {MAX_SHOTS} shots, got {len(shots)}")
        _validate_shots(shots, report, duration)

    references = prompt.get("references")
    if "references" in prompt and report.array(references, "references"):
        for position, reference in enumerate(references, start=1):
            _validate_reference(
                reference, f"references[{position}]", report, shot_count, root, resolved_root, reference_files
            )

    rubric = prompt.get("rubric")
    if "rubric" in prompt and report.array(rubric, "rubric"):
        first_question: dict[str, int] = {}
        for position, question in enumerate(rubric, start=1):
            where = f"rubric[{position}]"
            if not report.obj(question, where):
                continue
            question_id = question.get("id")
            if isinstance(question_id, str) and question_id.strip():
                if question_id in first_question:
                    report(
                        f"{where}.id",
                        f"duplicate question id {_show(question_id)} (also rubric[{first_question[question_id]}])",
                    )
                else:
                    first_question[question_id] = position
            _validate_question(question, where, report, shot_count)


def _validate_shots(shots: list[Any], report: _Report, duration: float | None) -> None:
    previous_end: float | None = None
    for position, shot in enumerate(shots, start=1):
        where = f"shots[{position}]"
        if not report.obj(shot, where):
            previous_end = None
            continue
        report.keys(shot, where, SHOT_KEYS_REQUIRED, SHOT_KEYS_OPTIONAL)
        start = report.number(shot["start_s"], f"{where}.start_s") if "start_s" in shot else None
        end = report.number(shot["end_s"], f"{where}.end_s") if "end_s" in shot else None
        if start is not None:
            if start < 0:
                report(f"{where}.start_s", f"must be >= 0, got {_show_number(start)}")
            elif previous_end is not None and start < previous_end:
                report(
                    f"{where}.start_s",
                    f"must be >= the previous shot's end_s ({_show_number(previous_end)}), got {_show_number(start)}",
                )
        if end is not None:
            if start is not None and end <= start:
                report(f"{where}.end_s", f"must be > start_s ({_show_number(start)}), got {_show_number(end)}")
            elif duration is not None and end > duration:
                report(f"{where}.end_s", f"must be <= duration_s ({_show_number(duration)}), got {_show_number(end)}")
        previous_end = end
        if "caption" in shot:
            report.string(shot["caption"], f"{where}.caption")
        if "shot_scale" in shot:
            report.choice(shot["shot_scale"], f"{where}.shot_scale", SHOT_SCALES)
        if "camera_angle" in shot:
            report.choice(shot["camera_angle"], f"{where}.camera_angle", CAMERA_ANGLES)
        if "camera_motion" in shot:
            report.choice(shot["camera_motion"], f"{where}.camera_motion", CAMERA_MOTIONS)
        if "transition_in" in shot:
            transition = shot["transition_in"]
            if report.choice(transition, f"{where}.transition_in", TRANSITIONS) and transition == "none":
                if position > 1:
                    report(f"{where}.transition_in", MSG_NONE_NOT_FIRST)
        for key in ("lighting", "on_screen_text"):
            if key in shot:
                report.string(shot[key], f"{where}.{key}", non_empty=False)
        if "audio" in shot and report.obj(shot["audio"], f"{where}.audio"):
            audio = shot["audio"]
            report.keys(audio, f"{where}.audio", (), SHOT_AUDIO_KEYS)
            for key in SHOT_AUDIO_KEYS:
                if key in audio and report.string(audio[key], f"{where}.audio.{key}", non_empty=False):
                    if key == "language" and audio[key] and not _LANGUAGE_RE.match(audio[key]):
                        report(
                            f"{where}.audio.language",
                            f'must be a BCP-47 language tag such as "en" or "pt-BR", got {_show(audio[key])}',
                        )


def _validate_reference(
    reference: Any,
    where: str,
    report: _Report,
    shot_count: int | None,
    root: Path,
    resolved_root: Path,
    reference_files: dict[str, Path],
) -> None:
    if not report.obj(reference, where):
        return
    report.keys(reference, where, REFERENCE_KEYS_REQUIRED, REFERENCE_KEYS_OPTIONAL)
    kind: str | None = None
    if "kind" in reference and report.choice(reference["kind"], f"{where}.kind", REFERENCE_KINDS):
        kind = reference["kind"]
    if "name" in reference:
        report.string(reference["name"], f"{where}.name")
    if "shots" in reference:
        report.shot_numbers(reference["shots"], f"{where}.shots", shot_count)
    if "file" not in reference:
        return
    file_name = reference["file"]
    field = f"{where}.file"
    if not report.string(file_name, field):
        return
    path_problem = member_path_problem(file_name)
    if path_problem:
        report(field, path_problem.replace("the archive", "the suite folder") + f": {_show(file_name)}")
        return
    parts = member_path_parts(file_name)
    if not parts:
        report(field, f"must name a file inside the suite folder, got {_show(file_name)}")
        return
    path = root.joinpath(*parts)
    resolved = path.resolve()
    if not resolved.is_relative_to(resolved_root):
        report(field, f"leaves the suite folder through a symbolic link: {_show(file_name)}")
        return
    extension = path.suffix.lower()
    if kind is not None:
        allowed = REFERENCE_EXTENSIONS[kind]
        if extension not in allowed:
            what = "an image" if kind in ("subject", "scene") else "a voice recording"
            report(field, f"a {kind} reference must be {what} ({', '.join(allowed)}), got {_show(file_name)}")
            return
    if not resolved.is_file():
        report(field, f"file not found in the suite: {_show(file_name)}")
        return
    if extension in _CONTENT_NAMES:
        with open(resolved, "rb") as handle:
            head = handle.read(16)
        if not _looks_like(extension, head):
            report(field, f"the content of {_show(file_name)} is not {_CONTENT_NAMES[extension]}")
            return
    reference_files[file_name] = resolved


def _validate_question(question: dict[str, Any], where: str, report: _Report, shot_count: int | None) -> None:
    report.keys(question, where, QUESTION_KEYS_REQUIRED, QUESTION_KEYS_OPTIONAL)
    if "id" in question:
        report.string(question["id"], f"{where}.id")
    if "metric" in question:
        report.choice(question["metric"], f"{where}.metric", RUBRIC_METRICS)
    if "question" in question:
        report.string(question["question"], f"{where}.question")
    choice_count: int | None = None
    choices = question.get("choices")
    if "choices" in question and report.array(choices, f"{where}.choices"):
        if len(choices) < 2:
            report(f"{where}.choices", f"must offer at least 2 choices, got {len(choices)}")
        valid = True
        seen: dict[str, int] = {}
        for position, choice in enumerate(choices, start=1):
            field = f"{where}.choices[{position}]"
            if not report.string(choice, field):
                valid = False
            elif choice in seen:
                report(field, f"repeats choices[{seen[choice]}] ({_show(choice)})")
                valid = False
            else:
                seen[choice] = position
        choice_count = len(choices) if valid and len(choices) >= 2 else None
    if "answer" in question:
        answer = question["answer"]
        if not _is_int(answer):
            report(f"{where}.answer", f"must be the index (from 0) of the right choice, got {json_type(answer)}")
        elif choice_count is not None and not 0 <= answer < choice_count:
            report(
                f"{where}.answer",
                f"must be an index into choices (0..{choice_count - 1}), got {answer}",
            )
    if "shots" in question:
        report.shot_numbers(question["shots"], f"{where}.shots", shot_count)

