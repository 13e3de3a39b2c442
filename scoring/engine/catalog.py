"""The metric catalog: every metric name, its dimension and weight, and the dimension weights of the overall score.

This is the one place that declares them. The engine emits exactly these metrics (each as measured,
not measured or failed); aggregation reads the weights from here. Adding a metric means adding a
MetricSpec here and producing it in a metrics module; changing a weight means bumping ENGINE_VERSION.
"""

from __future__ import annotations

from dataclasses import dataclass

VIDEO = "video"
AUDIO = "audio"
SHOT = "shot"
REFERENCE = "reference"
SYNC = "sync"
DIMENSIONS: tuple[str, ...] = (VIDEO, AUDIO, SHOT, REFERENCE, SYNC)

# Equal weights, as MSAVBench averages its dimensions; a dimension with nothing measured drops out
# and the others are renormalised.
DIMENSION_WEIGHTS: dict[str, float] = {VIDEO: 1.0, AUDIO: 1.0, SHOT: 1.0, REFERENCE: 1.0, SYNC: 1.0}

SCORE = "score"  # averaged into its dimension
PENALTY = "penalty"  # multiplies the overall score (MSAVBench's shot-completion penalty)


@dataclass(frozen=True)
class MetricSpec:
    name: str
    dimension: str
    weight: float  # within the dimension (0 for the penalty, which is applied to the overall score)
    level: str  # MSAVBench level: global | cross-shot | intra-shot | reference
    role: str
    description: str


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("video_sharpness", VIDEO, 1.0, "intra-shot", SCORE,
               "median width of the strongest edges in sampled frames per shot, noise-insensitive (1 = crisp)"),
    MetricSpec("video_noise", VIDEO, 1.0, "intra-shot", SCORE,
               "robust noise sigma (MAD of a Laplacian-like residual in flat regions) per shot (1 = clean)"),
    MetricSpec("video_exposure", VIDEO, 1.0, "intra-shot", SCORE,
               "share of clipped highlights/shadows and mean-luminance sanity per shot"),
    MetricSpec("video_flicker", VIDEO, 1.0, "intra-shot", SCORE,
               "frame-to-frame mean-luminance jitter inside shots (robust: isolated flashes do not count)"),
    MetricSpec("audio_loudness", AUDIO, 1.0, "global", SCORE,
               "integrated loudness (ITU-R BS.1770, pyloudnorm) against a -23..-14 LUFS window"),
    MetricSpec("audio_clipping", AUDIO, 1.0, "global", SCORE,
               "share of samples at or near full scale, and true peak"),
    MetricSpec("audio_silence", AUDIO, 1.0, "global", SCORE,
               "share of the clip that is silent although the prompt asks for sound"),
    MetricSpec("audio_noise_floor", AUDIO, 1.0, "global", SCORE,
               "level of the quietest noise-like passages relative to the active level"),
    MetricSpec("shot_count_match", SHOT, 1.0, "global", SCORE,
               "detected shot count against the scripted count"),
    MetricSpec("shot_boundary_timing", SHOT, 1.0, "cross-shot", SCORE,
               "mean absolute error of matched boundaries against the script's start times (0 at 1 s)"),
    MetricSpec("shot_transition_type", SHOT, 1.0, "cross-shot", SCORE,
               "share of matched boundaries whose kind (cut/gradual) agrees with the script's transition"),
    MetricSpec("shot_completion", SHOT, 0.0, "global", PENALTY,
               "valid (aligned) shots / scripted shots: MSAVBench's penalty on the overall score"),
    MetricSpec("sync_offset", SYNC, 1.0, "global", SCORE,
               "global audio-visual offset from onset/motion cross-correlation, max(0, 1 - |dt| / 2 s)"),
    MetricSpec("reference_subject_fidelity", REFERENCE, 1.0, "reference", SCORE,
               "similarity of the subject to the reference image"),
    MetricSpec("reference_voice_fidelity", REFERENCE, 1.0, "reference", SCORE,
               "similarity of the voice to the reference recording"),
)

METRICS_BY_NAME: dict[str, MetricSpec] = {spec.name: spec for spec in METRICS}
PENALTY_METRIC = "shot_completion"


def metric_spec(name: str) -> MetricSpec:
    try:
        return METRICS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a metric of the catalog (scoring/engine/catalog.py)") from None


def metrics_of(dimension: str) -> tuple[MetricSpec, ...]:
    return tuple(spec for spec in METRICS if spec.dimension == dimension)


def _check() -> None:
    # Fail at import if the catalog contradicts itself: it is the single source of truth.
    assert len(METRICS_BY_NAME) == len(METRICS), "duplicate metric names"
    assert set(DIMENSION_WEIGHTS) == set(DIMENSIONS)
    for spec in METRICS:
        assert spec.dimension in DIMENSIONS and spec.role in (SCORE, PENALTY) and spec.weight >= 0
    assert METRICS_BY_NAME[PENALTY_METRIC].role == PENALTY


_check()
