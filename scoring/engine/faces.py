"""Faces with dlib (`dlib-bin`) and the models of `face-recognition-models`: detection, 68 landmarks, 128-d embeddings.

The weights ship inside the `face-recognition-models` wheel; nothing is downloaded. When dlib or the
model files are missing, `faces_available()` is False and every caller falls back to its DSP path.

Cost control: detection runs on a copy at most DETECT_WIDTH wide with one pyramid upsample (faces down
to ~40 px, i.e. ~14% of a 480 x 270 frame's height, at ~50 ms a frame on one core); landmarks (~2 ms)
and embeddings (~40 ms) are computed only for the faces found. `detect_faces_in` detects several frames
at once, each thread with a detector of its own (dlib releases the GIL while it scans).
"""

from __future__ import annotations

import importlib.util
import threading
import weakref
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .versions import package_version

DETECT_WIDTH = 480  # px: detection input width (the decoder's samples are at most this wide)
DETECT_UPSAMPLE = 1
DETECT_THREADS = 2  # frames detected at the same time by detect_faces_in: the two cores the engine's lanes use
DETECT_POLL_S = 0.05
DETECT_MIN_SCORE = 0.1  # HOG+SVM margin; below it the detector's false alarms (textures, patches) dominate
SAME_PERSON_DISTANCE = 0.6  # dlib's documented decision threshold on the 128-d embedding distance
# Landmark indices (iBUG 68-point scheme).
INNER_LIPS_TOP = (61, 62, 63)
INNER_LIPS_BOTTOM = (67, 66, 65)
MOUTH_CORNERS = (60, 64)
JAW = slice(0, 17)
NOSE_BRIDGE_TOP, CHIN = 27, 8

_MODEL_FILES = {
    "landmarks": "shape_predictor_68_face_landmarks.dat",
    "embedding": "dlib_face_recognition_resnet_model_v1.dat",
}


@dataclass(frozen=True)
class FaceBox:
    """A detected face in the pixel coordinates of the frame it was found in."""

    left: float
    top: float
    right: float
    bottom: float
    score: float  # detector margin (higher = more certain)
    frame_width: int
    frame_height: int

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def centre(self) -> tuple[float, float]:
        """(x, y) as fractions of the frame width and height."""
        return ((self.left + self.right) / 2 / self.frame_width, (self.top + self.bottom) / 2 / self.frame_height)

    @property
    def height_fraction(self) -> float:
        """Face height / frame height: the shot-scale cue (close-up ~0.35+, medium ~0.12-0.3, long < 0.1)."""
        return self.height / self.frame_height

    def to_dict(self) -> dict[str, float]:
        cx, cy = self.centre
        return {
            "left": round(self.left, 1), "top": round(self.top, 1), "right": round(self.right, 1),
            "bottom": round(self.bottom, 1), "score": round(self.score, 3),
            "centre_x": round(cx, 4), "centre_y": round(cy, 4), "height_fraction": round(self.height_fraction, 4),
        }


@dataclass(frozen=True)
class Face:
    """A face with its landmarks (68 x 2, frame pixels) and, when asked for, its 128-d embedding."""

    box: FaceBox
    landmarks: np.ndarray
    embedding: np.ndarray | None

    @property
    def mouth_opening(self) -> float:
        """Inner-lip gap over the face height (nose bridge to chin): ~0 closed, ~0.1-0.3 speaking or singing;
        independent of the face's size in the frame."""
        return mouth_opening(self.landmarks)


def mouth_opening(landmarks: np.ndarray) -> float:
    gap = float(np.mean(landmarks[list(INNER_LIPS_BOTTOM), 1] - landmarks[list(INNER_LIPS_TOP), 1]))
    face_height = float(np.linalg.norm(landmarks[CHIN] - landmarks[NOSE_BRIDGE_TOP]))
    return max(0.0, gap) / face_height if face_height > 1e-6 else 0.0


def _models_dir() -> Path | None:
    # Not `import face_recognition_models`: its __init__ needs pkg_resources (setuptools), which a
    # runtime need not have. The files sit in its package directory.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if all((folder / name).is_file() for name in _MODEL_FILES.values()) else None


@lru_cache(maxsize=1)
def faces_available() -> bool:
    """dlib importable and the landmark and embedding models present."""
    return importlib.util.find_spec("dlib") is not None and _models_dir() is not None


def faces_version() -> str:
    return f"dlib {package_version('dlib-bin')}; face-recognition-models {package_version('face-recognition-models')}"


class _Models:
    """The loaded dlib models (the 68-point predictor is ~100 MB: loaded once per process)."""

    def __init__(self) -> None:
        import dlib  # type: ignore[import-untyped]  # no stubs; used through Any

        folder = _models_dir()
        if folder is None:
            raise RuntimeError("face-recognition-models is not installed (pip install face-recognition-models)")
        self.dlib: Any = dlib
        self.predictor: Any = dlib.shape_predictor(str(folder / _MODEL_FILES["landmarks"]))
        self.encoder: Any = dlib.face_recognition_model_v1(str(folder / _MODEL_FILES["embedding"]))
        self.lock = threading.Lock()  # the predictor and encoder: dlib objects are not documented thread-safe
        self._idle_detectors: list[Any] = [dlib.get_frontal_face_detector()]
        self._detectors_lock = threading.Lock()

    @contextmanager
    def detector(self) -> Iterator[Any]:
        """A face detector no other thread is running. One detector object keeps scratch state, so it never
        runs in two threads at once; two objects do run in parallel (dlib releases the GIL while it scans).
        A busy pool grows by one (~0.5 s to build), so it holds as many as ever ran at the same time."""
        with self._detectors_lock:
            detector = self._idle_detectors.pop() if self._idle_detectors else None
        if detector is None:
            detector = self.dlib.get_frontal_face_detector()
        try:
            yield detector
        finally:
            with self._detectors_lock:
                self._idle_detectors.append(detector)


_models: _Models | None = None
_models_lock = threading.Lock()


def _get_models() -> _Models:
    global _models
    with _models_lock:
        if _models is None:
            _models = _Models()
        return _models


def _resize(rgb: np.ndarray, width: int) -> np.ndarray:
    from PIL import Image

    height = max(1, int(round(rgb.shape[0] * width / rgb.shape[1])))
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR))


# Detections of frames still alive, keyed by the array's id (checked through a weak reference): the shot
# metrics and the face analysis look at the same decoded samples, and detection is the costly step.
_DETECT_CACHE_SIZE = 256
_detect_cache: dict[tuple[int, float, int], tuple[weakref.ref[np.ndarray], list[FaceBox]]] = {}


def detect_faces(rgb: np.ndarray, *, detect_width: int = DETECT_WIDTH, min_score: float = DETECT_MIN_SCORE) -> list[FaceBox]:
    """Faces in an RGB uint8 frame, largest first, boxes in this frame's pixels (detection runs on a
    copy at most `detect_width` wide). Repeated calls on the same (unchanged, still referenced) array
    reuse the first detection."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"detect_faces needs an (h, w, 3) RGB frame, got shape {rgb.shape}")
    key = (id(rgb), min_score, detect_width)
    cached = _detect_cache.get(key)
    if cached is not None and cached[0]() is rgb and not rgb.flags.writeable:
        return list(cached[1])
    boxes = _detect(rgb, detect_width, min_score)
    if not rgb.flags.writeable:  # only read-only frames can be trusted not to change under the same id
        if len(_detect_cache) >= _DETECT_CACHE_SIZE:
            _detect_cache.clear()
        _detect_cache[key] = (weakref.ref(rgb), boxes)
    return list(boxes)


def _detect(rgb: np.ndarray, detect_width: int, min_score: float) -> list[FaceBox]:
    models = _get_models()
    h, w = rgb.shape[:2]
    scale = 1.0
    small = rgb
    if w > detect_width:
        small = _resize(rgb, detect_width)
        scale = w / detect_width
    with models.detector() as detector:
        rects, scores, _ = detector.run(np.ascontiguousarray(small), DETECT_UPSAMPLE, min_score)
    boxes = [
        FaceBox(
            max(0.0, r.left() * scale), max(0.0, r.top() * scale), min(float(w), r.right() * scale),
            min(float(h), r.bottom() * scale), float(s), w, h,
        )
        for r, s in zip(rects, scores)
    ]
    return sorted(boxes, key=lambda b: -b.width * b.height)


def detect_faces_in(frames: Sequence[np.ndarray], *, detect_width: int = DETECT_WIDTH,
                    min_score: float = DETECT_MIN_SCORE) -> list[list[FaceBox]]:
    """`detect_faces` of each frame, DETECT_THREADS frames at a time (the same boxes, in input order).

    The caller waits in short polls, so a signal for the calling thread (the clip-limit watchdog's
    interrupt) is handled at once; detections already started then finish in the background."""
    if len(frames) < 2:
        return [detect_faces(rgb, detect_width=detect_width, min_score=min_score) for rgb in frames]
    pool = ThreadPoolExecutor(max_workers=DETECT_THREADS, thread_name_prefix="face-detect")
    try:
        futures = [pool.submit(detect_faces, rgb, detect_width=detect_width, min_score=min_score) for rgb in frames]
        found: list[list[FaceBox]] = []
        for future in futures:
            while True:
                try:
                    found.append(future.result(timeout=DETECT_POLL_S))
                    break
                except FutureTimeout:
                    continue
        return found
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def landmarks_for(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    """68 x 2 landmark coordinates (frame pixels) inside a face box."""
    models = _get_models()
    rect = models.dlib.rectangle(int(box.left), int(box.top), int(box.right), int(box.bottom))
    with models.lock:
        shape = models.predictor(np.ascontiguousarray(rgb), rect)
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)


def analyse_faces(rgb: np.ndarray, *, embed: bool = True, max_faces: int = 4) -> list[Face]:
    """Detected faces (largest first, at most `max_faces`) with landmarks and optionally embeddings."""
    models = _get_models()
    frame = np.ascontiguousarray(rgb)
    out = []
    for box in detect_faces(frame)[:max_faces]:
        rect = models.dlib.rectangle(int(box.left), int(box.top), int(box.right), int(box.bottom))
        with models.lock:
            shape = models.predictor(frame, rect)
            embedding = np.array(models.encoder.compute_face_descriptor(frame, shape), dtype=np.float32) if embed else None
        points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)
        out.append(Face(box, points, embedding))
    return out


def embedding_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def identity_similarity(distance: float) -> float:
    """Map an embedding distance to [0, 1]: 1 at 0.3 or less (the same face, another photo), 0.5 at dlib's
    0.6 same-person threshold, 0 at 0.9 or more (clearly someone else)."""
    return float(min(1.0, max(0.0, (0.9 - distance) / 0.6)))


def faces_for_frames(frames: list[tuple[int, np.ndarray]], *, embed: bool = True) -> dict[int, list[Face]]:
    """Faces (with landmarks and embeddings) of each (key, RGB frame), keyed like the input; frames without
    a face map to an empty list, so "analysed, nothing found" differs from "not analysed"."""
    # Read-only frames keep their detections in the cache, so the detection (the costly step) runs on
    # several threads first and the analysis below finds it there.
    detect_faces_in([rgb for _, rgb in frames if not rgb.flags.writeable])
    return {key: analyse_faces(rgb, embed=embed) for key, rgb in frames}
