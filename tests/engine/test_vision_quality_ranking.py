"""Video-quality metrics rank graded degradations of real photographs in the right order (Spearman >= 0.95).

Each clip is a 1.5 s camera move over a photograph (skimage's sample photographs), degraded before an
H.264 encode (blur, grain, over-exposure, flicker) or by the encoder itself (CRF for blockiness), then
decoded and measured by the engine exactly as score_clip does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from tests.engine.engine_synth import SynthShot, make_clip

from scoring.engine.decode import decode_clip
from scoring.engine.metrics.video import video_metrics
from scoring.engine.segmentation import segment

PHOTOS = ("astronaut", "coffee", "chelsea")
# metric -> (degradation keyword of make_clip, graded levels from mild to severe)
GRADES: dict[str, tuple[str, tuple[float, ...]]] = {
    "video_sharpness": ("blur_sigma", (0.0, 1.0, 1.8, 2.6, 3.5)),
    "video_noise": ("noise_sigma", (0.0, 4.0, 8.0, 14.0, 22.0)),
    "video_exposure": ("gain", (1.0, 1.5, 2.0, 2.6, 3.4)),
    "video_flicker": ("flicker", (0.0, 0.01, 0.025, 0.05, 0.09)),
    "video_blockiness": ("crf", (18.0, 38.0, 44.0, 48.0, 51.0)),
}


def _measure(path: Path, metric: str) -> float:
    decoded = decode_clip(path)
    seg = segment(decoded.thumbs, decoded.timestamps_s, decoded.fps, decoded.duration_s)
    values, _ = video_metrics(decoded, seg)
    value = values[metric]
    assert value.measured, (path.name, value.reason)
    assert value.value is not None
    return value.value


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[float]]]:
    root = tmp_path_factory.mktemp("vision-grades")
    out: dict[str, dict[str, list[float]]] = {}
    for metric, (keyword, levels) in GRADES.items():
        out[metric] = {}
        for photo in PHOTOS:
            scores = []
            for level in levels:
                path = root / f"{metric}-{photo}-{level:g}.mp4"
                options: dict[str, float] = {keyword: level}
                crf = int(options.pop("crf", 20))
                make_clip(path, [SynthShot(photo, 1.5, "pan")], fps=25.0, crf=crf, audio=None, **options)
                scores.append(_measure(path, metric))
            out[metric][photo] = scores
    return out


@pytest.mark.parametrize("metric", list(GRADES))
def test_graded_degradations_rank_in_order(graded: dict[str, dict[str, list[float]]], metric: str) -> None:
    levels = GRADES[metric][1]
    for photo, scores in graded[metric].items():
        rho = stats.spearmanr(levels, scores).statistic
        # Worse degradation -> lower score: a perfect ranking is rho = -1.
        assert -rho >= 0.95, f"{metric} on {photo}: scores {np.round(scores, 3).tolist()} for levels {levels}"
        assert scores[0] > scores[-1] + 0.3, f"{metric} on {photo}: the range is too small to rank anything"
