"""What one demo model generates for one prompt: shots, cuts, events and defects, decided before rendering.

The plan is the single source of both the rendered clip and its ground truth, so the truth cannot drift
from the pixels. Everything random is drawn from generators seeded by (seed, prompt id, model slug).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scoring.engine.script import GRADUAL_TRANSITIONS, PromptScript

from .photos import PHOTOS
from .roster import DemoModel
from .suite import PromptDirection

TRANSITION_FRAMES = 12  # length of every dissolve, fade and wipe
EVENT_MARGIN_S = 0.35  # events keep this far from scripted boundaries, clear of any 12-frame transition
EVENT_SPACING_S = 1.2  # minimum gap between events, so offsets up to +-0.6 s stay unambiguous
EXTRA_CUT_CLEARANCE_S = 0.4  # spurious cuts keep this far from events and shot edges

# z0 per shot scale: how far the camera window is zoomed into the photo's widest 16:9 window.
SCALE_ZOOM = {"extreme-long": 1.0, "long": 1.25, "medium": 1.7, "close-up": 2.4, "extreme-close-up": 3.4}

# What a model that ignores a subject reference shows instead (first one that differs from the neighbours).
STAND_INS = {
    "astronaut": ("camera", "coins", "brick"),
    "chelsea": ("horse", "gravel", "brick"),
    "motorcycle": ("rocket", "brick", "gravel"),
    "coffee": ("coins", "gravel", "brick"),
}
# Pictures a spurious cut jumps to.
EXTRA_CUT_PHOTOS = ("brick", "gravel", "coins", "moon", "grass", "colorwheel")
POP_COLOURS = ((255, 214, 0), (0, 200, 255), (255, 70, 160), (120, 255, 90), (255, 255, 255))


def rng_for(seed: int, *parts: str) -> np.random.Generator:
    """A generator seeded by the demo seed and stable names (crc32, never Python's salted hash())."""
    return np.random.default_rng([seed, *(zlib.crc32(p.encode()) for p in parts)])


def clip_seed(seed: int, prompt_id: str, model_slug: str) -> int:
    """The per-clip seed reported in the submission manifest."""
    return int(rng_for(seed, prompt_id, model_slug, "clip-seed").integers(0, 2**31 - 1))


@dataclass
class VisualEvent:
    kind: str  # "flash" (brightness burst), "pop" (a coloured disc pops in), "jump" (the camera jolts)
    frame: int
    fps: int
    shot: int  # 1-based scripted shot
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def time_s(self) -> float:
        return self.frame / self.fps

    def truth(self, generated_shot: int) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "frame": self.frame,
            "time_s": round(self.time_s, 6),
            "scripted_shot": self.shot,
            "generated_shot": generated_shot,
            "params": self.params,
        }


@dataclass
class Segment:
    """One generated shot: a photo framed by a moving camera window over [start_frame, end_frame)."""

    start_frame: int
    end_frame: int
    photo: str
    poi: str
    scale: str
    motion: str
    direction: str
    scripted: list[int]  # scripted shots this generated shot stands for
    seed: int
    spurious: bool = False  # created by a spurious cut
    swapped_from: str = ""  # the photo the script wanted, when the model replaced the subject


@dataclass
class Boundary:
    frame: int  # first frame that belongs to the new shot (centre of a gradual transition)
    transition: str
    frames: int  # 0 for a hard cut
    scripted_shot: int | None  # the scripted shot it starts; None for a spurious cut

    @property
    def start_frame(self) -> int:
        return self.frame - self.frames // 2

    @property
    def end_frame(self) -> int:
        """Exclusive end of the transition; frames [start_frame, end_frame) are blends."""
        return self.start_frame + self.frames


@dataclass
class ClipPlan:
    prompt_id: str
    model_slug: str
    seed: int
    fps: int
    width: int
    height: int
    frame_count: int
    style: str
    segments: list[Segment]
    boundaries: list[Boundary]  # boundaries[i] starts segments[i + 1]
    events: list[VisualEvent]
    texts: list[tuple[int, int, str]]  # (start_frame, end_frame, text) per scripted shot with on-screen text
    noise_sigma: float
    blur_sigma: float
    audio_offset_ms: int
    clip_gain: float
    silence_spans: list[tuple[float, float]]
    voice_swaps: dict[str, str]  # speaker key -> generic voice key
    merged_shots: list[int]  # scripted shots whose boundary was dropped
    subject_truth: list[dict[str, Any]]

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps

    def segment_at(self, frame: int) -> int:
        starts = [s.start_frame for s in self.segments]
        return int(np.searchsorted(starts, frame, side="right") - 1)


def prompt_events(prompt: PromptScript, direction: PromptDirection, *, seed: int, fps: int) -> list[VisualEvent]:
    """The visual events the prompt's world contains; the same for every model, so sync is comparable."""
    rng = rng_for(seed, prompt.id, "events")
    beat = 60.0 / direction.tempo_bpm if direction.tempo_bpm else 0.0
    events: list[VisualEvent] = []
    last = -1e9
    for shot, staging in zip(prompt.shots, direction.shots):
        lo, hi = shot.start_s + EVENT_MARGIN_S, shot.end_s - EVENT_MARGIN_S
        if staging.silent or hi < lo:
            continue
        count = 2 if shot.duration_s >= 3.0 else 1
        times = np.sort(rng.uniform(lo, hi, size=count))
        for t in times:
            if beat:
                # Music prompts: events land on the beat grid when one falls inside the window.
                on_beat = float(np.ceil(lo / beat) * beat)
                if on_beat <= hi:
                    t = on_beat if abs(on_beat - t) <= abs(round(t / beat) * beat - t) else round(t / beat) * beat
                    t = min(max(t, on_beat), hi)
            frame = int(round(t * fps))
            if frame / fps - last < EVENT_SPACING_S:
                continue
            kind = str(rng.choice(direction.event_kinds))  # drawn even when overridden: keeps the stream stable
            kind = staging.event or kind
            params: dict[str, Any]
            if kind == "flash":
                params = {"strength": 34.0, "decay_frames": 6}
            elif kind == "pop":
                colour = POP_COLOURS[int(rng.integers(len(POP_COLOURS)))]
                params = {
                    "x": round(float(rng.uniform(0.25, 0.75)), 3),
                    "y": round(float(rng.uniform(0.3, 0.7)), 3),
                    "radius": 0.28,  # of the frame height
                    "colour": list(colour),
                    "hold_frames": 6,
                    "fade_frames": 8,
                }
            else:
                params = {
                    "dx": round(float(rng.choice([-1, 1]) * rng.uniform(0.04, 0.06)), 3),  # of the window width
                    "dy": round(float(rng.choice([-1, 1]) * rng.uniform(0.02, 0.04)), 3),
                }
            events.append(VisualEvent(kind, frame, fps, shot.index, params))
            last = frame / fps
    return events


def _scripted_frame(t: float, fps: int) -> int:
    return int(round(t * fps))


def plan_clip(
    prompt: PromptScript,
    direction: PromptDirection,
    model: DemoModel,
    *,
    seed: int,
    fps: int,
    width: int,
    height: int,
) -> ClipPlan:
    """Realise the prompt as this model would: the script, bent by the model's defects."""
    d = model.defects
    rng = rng_for(seed, prompt.id, model.slug, "plan")
    frame_count = _scripted_frame(prompt.duration_s, fps)
    segments = [
        Segment(
            start_frame=_scripted_frame(shot.start_s, fps),
            end_frame=_scripted_frame(shot.end_s, fps),
            photo=staging.photo,
            poi=staging.poi,
            scale=shot.shot_scale,
            motion=shot.camera_motion,
            direction=staging.direction,
            scripted=[shot.index],
            seed=int(rng_for(seed, prompt.id, "segment", str(shot.index)).integers(2**31)),
        )
        for shot, staging in zip(prompt.shots, direction.shots)
    ]
    segments[-1].end_frame = frame_count
    boundaries = [
        Boundary(
            frame=segments[i].start_frame,
            transition=shot.transition_in,
            frames=TRANSITION_FRAMES if shot.transition_in in GRADUAL_TRANSITIONS else 0,
            scripted_shot=shot.index,
        )
        for i, shot in enumerate(prompt.shots[1:], start=1)
    ]

    # Dropped boundaries: the earlier shot simply carries on over the later one's time span.
    drop = [bool(rng.random() < d.merge_prob) for _ in boundaries]
    if d.max_shots:
        while len(boundaries) - sum(drop) + 1 > d.max_shots:
            kept = [i for i, dropped in enumerate(drop) if not dropped]
            # Merge where the merged shot would be shortest: the cheapest loss of structure.
            edges = [0] + [boundaries[i].frame for i in kept] + [frame_count]
            lengths = [edges[j + 2] - edges[j] for j in range(len(kept))]
            drop[kept[int(np.argmin(lengths))]] = True
    merged_shots: list[int] = []
    new_segments, new_boundaries = [segments[0]], []
    for boundary, segment, dropped in zip(boundaries, segments[1:], drop):
        if dropped:
            new_segments[-1].end_frame = segment.end_frame
            new_segments[-1].scripted.extend(segment.scripted)
            merged_shots.append(segment.scripted[0])
        else:
            new_segments.append(segment)
            new_boundaries.append(boundary)
    segments, boundaries = new_segments, new_boundaries

    events = prompt_events(prompt, direction, seed=seed, fps=fps)

    # Spurious cuts go where nothing else happens, so they are unambiguous in the truth.
    if d.extra_cuts and rng.random() < d.extra_cut_prob:
        for _ in range(d.extra_cuts):
            _insert_spurious_cut(segments, boundaries, events, rng, fps)

    if d.force_transition:
        for boundary in boundaries:
            if boundary.transition == "hard-cut" and boundary.scripted_shot is not None:
                boundary.transition = d.force_transition
                boundary.frames = TRANSITION_FRAMES
    for i, boundary in enumerate(boundaries):
        # A blend can never be longer than either shot it joins.
        room = min(segments[i].end_frame - segments[i].start_frame, segments[i + 1].end_frame - segments[i + 1].start_frame)
        if boundary.frames > room - 2:
            boundary.frames = max(2, (room - 2) // 2 * 2)

    subject_truth = _apply_subject_references(prompt, direction, segments, d.uses_subject_reference, fps)

    voice_swaps: dict[str, str] = {}
    if not d.uses_voice_reference:
        generic = ("generic-a", "generic-b")
        for source in direction.references:
            if source.kind == "voice" and source.source not in voice_swaps:
                voice_swaps[source.source] = generic[len(voice_swaps) % len(generic)]

    silence_spans: list[tuple[float, float]] = []
    if d.silence_spans and rng.random() < d.silence_prob:
        duration = frame_count / fps
        for _ in range(50):
            if len(silence_spans) == d.silence_spans:
                break
            start = round(float(rng.uniform(0.3, duration - d.silence_span_s - 0.3)), 3)
            span = (start, round(start + d.silence_span_s, 3))
            if all(span[1] + 0.3 < s or span[0] > e + 0.3 for s, e in silence_spans):
                silence_spans.append(span)
        silence_spans.sort()

    texts = [
        (_scripted_frame(shot.start_s, fps), _scripted_frame(shot.end_s, fps), shot.on_screen_text)
        for shot in prompt.shots
        if shot.on_screen_text
    ]
    return ClipPlan(
        prompt_id=prompt.id,
        model_slug=model.slug,
        seed=clip_seed(seed, prompt.id, model.slug),
        fps=fps,
        width=width,
        height=height,
        frame_count=frame_count,
        style=prompt.style,
        segments=segments,
        boundaries=boundaries,
        events=events,
        texts=texts,
        noise_sigma=d.noise_sigma,
        blur_sigma=d.blur_sigma,
        audio_offset_ms=d.audio_offset_ms,
        clip_gain=d.clip_gain,
        silence_spans=silence_spans,
        voice_swaps=voice_swaps,
        merged_shots=merged_shots,
        subject_truth=subject_truth,
    )


def _insert_spurious_cut(
    segments: list[Segment], boundaries: list[Boundary], events: list[VisualEvent], rng: np.random.Generator, fps: int
) -> None:
    clearance = int(round(EXTRA_CUT_CLEARANCE_S * fps))
    edge = int(round(EVENT_MARGIN_S * fps)) + TRANSITION_FRAMES // 2
    best: tuple[int, int, int] | None = None  # (run length, segment index, cut frame)
    for index, segment in enumerate(segments):
        # Frames far enough from the segment's edges and from every event; cut in the longest run of them.
        allowed = [
            f
            for f in range(segment.start_frame + edge, segment.end_frame - edge + 1)
            if all(abs(f - e.frame) >= clearance for e in events)
        ]
        runs: list[list[int]] = []
        for f in allowed:
            if runs and f == runs[-1][-1] + 1:
                runs[-1].append(f)
            else:
                runs.append([f])
        for run in runs:
            if best is None or len(run) > best[0]:
                best = (len(run), index, run[len(run) // 2])
    if best is None:
        return
    _, index, cut = best
    parent = segments[index]
    neighbours = {parent.photo}
    if index + 1 < len(segments):
        neighbours.add(segments[index + 1].photo)
    choices = [p for p in EXTRA_CUT_PHOTOS if p not in neighbours]
    photo = choices[int(rng.integers(len(choices)))]
    child = Segment(
        start_frame=cut,
        end_frame=parent.end_frame,
        photo=photo,
        poi=next(iter(PHOTOS[photo].pois)),
        scale="medium",
        motion="static",
        direction="",
        scripted=list(parent.scripted),
        seed=parent.seed + 1,
        spurious=True,
    )
    parent.end_frame = cut
    segments.insert(index + 1, child)
    boundaries.insert(index, Boundary(frame=cut, transition="hard-cut", frames=0, scripted_shot=None))


def _apply_subject_references(
    prompt: PromptScript, direction: PromptDirection, segments: list[Segment], uses_reference: bool, fps: int
) -> list[dict[str, Any]]:
    """Swap referenced subjects out when the model ignores references, and say where each subject shows."""
    truth = []
    subject_refs = [
        (ref, source)
        for ref, source in zip(prompt.references, direction.references)
        if ref.kind == "subject"
    ]
    for ref, source in subject_refs:
        photo = source.source
        if not uses_reference:
            for i, segment in enumerate(segments):
                if segment.photo != photo:
                    continue
                around = {segments[j].photo for j in (i - 1, i + 1) if 0 <= j < len(segments)}
                stand_in = next(p for p in STAND_INS[photo] if p not in around)
                segment.swapped_from = photo
                segment.photo = stand_in
                segment.poi = next(iter(PHOTOS[stand_in].pois))
        expected = list(ref.shots) or [s.index for s in prompt.shots]
        present = []
        for shot in prompt.shots:
            middle = int(round((shot.start_s + shot.end_s) / 2 * fps))
            segment = next(s for s in segments if s.start_frame <= middle < s.end_frame)
            if segment.photo == photo and PHOTOS[photo].shows_subject(segment.poi):
                present.append(shot.index)
        truth.append(
            {
                "kind": "subject",
                "name": ref.name,
                "file": ref.file,
                "photo": photo,
                "expected_shots": expected,
                "present_shots": present,
                "appears": bool(set(present) & set(expected)),
            }
        )
    return truth
