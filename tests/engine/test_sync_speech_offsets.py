"""Audio-visual offset when speech fills the soundtrack: the loud hits that go with what is seen must
decide the lag, not the many syllable onsets (the case the demo's dialogue and tutorial clips failed
on with a log-magnitude onset envelope). Known shifts are recovered within 40 ms, positive = late."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scoring.engine.decode import decode_clip
from scoring.engine.metrics.base import MEASURED
from scoring.engine.metrics.sync import sync_metric
from scoring.engine.segmentation import segment
from tests.engine.audio_synth import SAMPLE_RATE, normalise, speech_track
from tests.engine.engine_synth import SynthShot, click_track, make_clip

SECONDS = 9.0
EVENTS_S = (1.3, 3.9, 6.6)  # one pop per shot, as the demo stages them
SHOTS = [SynthShot("rocket", 3.0, "pan"), SynthShot("coffee", 3.0, "static"), SynthShot("astronaut", 3.0, "static")]


def _soundtrack(offset_s: float) -> np.ndarray:
    speech = normalise(speech_track(SECONDS, voice="barista", shot_s=3.0), -24.0)
    hits = click_track(SECONDS, EVENTS_S, rate=SAMPLE_RATE, offset_s=offset_s, bed_level=0.0)
    # Speech keeps its place: only the hits (the sound of what is seen) move with the offset, as when
    # a dubbed effects track is shifted; the speech onsets are the distraction.
    return (speech + 0.8 * hits).astype(np.float32)


@pytest.mark.parametrize("offset_ms", [0.0, 160.0, -280.0])
def test_offset_recovered_under_speech(tmp_path: Path, offset_ms: float) -> None:
    clip = make_clip(tmp_path / "speech.mp4", SHOTS, pops_s=EVENTS_S, audio=_soundtrack(offset_ms / 1000.0))
    decoded = decode_clip(clip.path)
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    metric, evidence = sync_metric(decoded, seg)
    assert metric.status == MEASURED, metric.reason
    assert evidence["offset_ms"] == pytest.approx(offset_ms, abs=40.0), evidence
    assert metric.value == pytest.approx(max(0.0, 1.0 - abs(evidence["offset_ms"]) / 2000.0), abs=1e-4)
