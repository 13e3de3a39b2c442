"""The metric catalog: every metric, its display dimension, its paper dimension and its weight, in ONE table.

This is the one place that declares them. The engine emits exactly these metrics (each as measured,
not measured or failed); aggregation reads every weight from here. Adding a metric means adding one
MetricSpec row here and producing it in a metrics module; changing a weight means bumping ENGINE_VERSION.

Two groupings of the same metrics:
- `dimension` (video, audio, shot, reference, sync): what the leaderboard shows as columns and what
  annotators judge; each is the weighted mean of its measured metrics.
- `paper_dimension`: MSAVBench's 11 dimensions (its 20 metrics merged by what they judge). The overall
  score is the weighted mean of the measured paper dimensions (equal weights: the paper averages them)
  times the shot-completion penalty. A dimension with nothing measured drops out and the others are
  renormalised; a not-measured metric never counts as 0.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- display dimensions (leaderboard columns, human-judgment dimensions) ----------------------------
VIDEO = "video"
AUDIO = "audio"
SHOT = "shot"
REFERENCE = "reference"
SYNC = "sync"
DIMENSIONS: tuple[str, ...] = (VIDEO, AUDIO, SHOT, REFERENCE, SYNC)
DIMENSION_WEIGHTS: dict[str, float] = {VIDEO: 1.0, AUDIO: 1.0, SHOT: 1.0, REFERENCE: 1.0, SYNC: 1.0}

# --- the paper's 11 dimensions (the overall score averages these) -----------------------------------
NARRATIVE = "narrative_coherence"
VISUAL_QUALITY = "visual_quality"
AUDIO_QUALITY = "audio_quality"
AV_SYNC = "audio_visual_sync"
LIP_SYNC = "lip_sync"  # lip sync and sound attribution: is the visible speaker the one heard?
VISUAL_CONSISTENCY = "visual_consistency"
LAYOUT = "layout"
AUDIO_CONSISTENCY = "audio_consistency"
CAMERA = "camera_adherence"  # cinematography against the script: scale, motion, shot timing, transitions
TEXT_SPEECH = "text_and_speech"  # rendered on-screen text (1 - CER) and spoken words (1 - WER)
REFERENCE_FIDELITY = "reference_fidelity"
PAPER_DIMENSIONS: tuple[str, ...] = (
    NARRATIVE,
    VISUAL_QUALITY,
    AUDIO_QUALITY,
    AV_SYNC,
    LIP_SYNC,
    VISUAL_CONSISTENCY,
    LAYOUT,
    AUDIO_CONSISTENCY,
    CAMERA,
    TEXT_SPEECH,
    REFERENCE_FIDELITY,
)
PAPER_DIMENSION_WEIGHTS: dict[str, float] = {d: 1.0 for d in PAPER_DIMENSIONS}  # the paper averages them

SCORE = "score"  # averaged into its dimensions
PENALTY = "penalty"  # multiplies the overall score (MSAVBench's shot-completion penalty)
LEVELS = ("global", "cross-shot", "intra-shot", "reference")


@dataclass(frozen=True)
class MetricSpec:
    name: str
    dimension: str  # display dimension (DIMENSIONS)
    weight: float  # within both of its dimensions (0 for the penalty, which is applied to the overall score)
    level: str  # MSAVBench level: global | cross-shot | intra-shot | reference
    role: str
    description: str
    paper_dimension: str  # one of PAPER_DIMENSIONS (the penalty names the one it relates to)


M = MetricSpec
METRICS: tuple[MetricSpec, ...] = (
    # --- video: technical quality per shot ----------------------------------------------------------
    M("video_sharpness", VIDEO, 1.0, "intra-shot", SCORE,
      "median width of the strongest edges in sampled frames per shot, noise-insensitive (1 = crisp)", VISUAL_QUALITY),
    M("video_noise", VIDEO, 1.0, "intra-shot", SCORE,
      "robust noise sigma (MAD of a Laplacian-like residual in flat regions) per shot (1 = clean)", VISUAL_QUALITY),
    M("video_exposure", VIDEO, 1.0, "intra-shot", SCORE,
      "share of clipped highlights/shadows and mean-luminance sanity per shot", VISUAL_QUALITY),
    M("video_flicker", VIDEO, 1.0, "intra-shot", SCORE,
      "frame-to-frame mean-luminance jitter inside shots (robust: isolated flashes do not count)", VISUAL_QUALITY),
    M("video_blockiness", VIDEO, 1.0, "intra-shot", SCORE,
      "compression blocking: luminance steps on the 8-px grid against steps between grid lines, per shot",
      VISUAL_QUALITY),
    M("rubric_visual", VIDEO, 1.0, "global", SCORE,
      "share of the prompt's visual-quality rubric questions the configured judge answers correctly", VISUAL_QUALITY),
    # --- video: cross-shot consistency and layout ---------------------------------------------------
    M("video_subject_consistency", VIDEO, 1.0, "cross-shot", SCORE,
      "the same subject across shots: dlib face-embedding distance (colour and keypoints for non-face subjects)",
      VISUAL_CONSISTENCY),
    M("video_background_consistency", VIDEO, 1.0, "cross-shot", SCORE,
      "background colour-histogram similarity between shots whose script places them in the same scene",
      VISUAL_CONSISTENCY),
    M("video_colour_consistency", VIDEO, 1.0, "cross-shot", SCORE,
      "colour statistics (mean and spread in Lab) of adjacent shots", VISUAL_CONSISTENCY),
    M("video_illumination_consistency", VIDEO, 1.0, "cross-shot", SCORE,
      "luminance level and contrast of adjacent shots unless the script changes the lighting", VISUAL_CONSISTENCY),
    M("video_style_consistency", VIDEO, 1.0, "cross-shot", SCORE,
      "style distance of adjacent shots: colourfulness, saturation, edge density and texture statistics",
      VISUAL_CONSISTENCY),
    M("video_layout_consistency", VIDEO, 1.0, "cross-shot", SCORE,
      "face count and positions across adjacent shots of the same scene", LAYOUT),
    M("video_layout_alignment", VIDEO, 1.0, "intra-shot", SCORE,
      "faces counted per shot against the people the shot's caption names", LAYOUT),
    M("rubric_layout", VIDEO, 1.0, "intra-shot", SCORE,
      "share of the prompt's layout rubric questions the configured judge answers correctly", LAYOUT),
    M("video_text_rendering", VIDEO, 1.0, "intra-shot", SCORE,
      "1 - character error rate of RapidOCR (PP-OCRv4) against the script's on_screen_text, where asked",
      TEXT_SPEECH),
    # --- audio --------------------------------------------------------------------------------------
    M("audio_loudness", AUDIO, 1.0, "global", SCORE,
      "integrated loudness (ITU-R BS.1770, pyloudnorm) against a -23..-14 LUFS window", AUDIO_QUALITY),
    # Distortion and drop-outs ruin a soundtrack that is otherwise loud enough, full-band and quiet
    # between sounds (the paper's Audiobox PQ judges the whole production): they weigh 8 and 4 times a
    # single technical metric. Measured on the full demo: with 1 and 1 the overdriven, dropping dub
    # (DubStage) ranked 2nd of 7, with 4 and 3 3rd, with 8 and 4 4th, its intended place, on both paths.
    M("audio_clipping", AUDIO, 8.0, "global", SCORE,
      "share of samples at or near full scale, and true peak", AUDIO_QUALITY),
    M("audio_silence", AUDIO, 4.0, "global", SCORE,
      "drop-outs (silent runs of 1.2 s or more) where the script asks for sound", AUDIO_QUALITY),
    M("audio_noise_floor", AUDIO, 1.0, "global", SCORE,
      "level of the quietest noise-like passages relative to the active level", AUDIO_QUALITY),
    M("audio_bandwidth", AUDIO, 1.0, "global", SCORE,
      "effective audio bandwidth (highest frequency with real energy) against a full-band target", AUDIO_QUALITY),
    M("audio_speech_quality", AUDIO, 1.0, "intra-shot", SCORE,
      "DNSMOS (speechmos) overall quality on the speech the VAD finds", AUDIO_QUALITY),
    M("audio_speech_presence", AUDIO, 1.0, "intra-shot", SCORE,
      "speech (Silero VAD) in the shots whose script has dialogue, and none where it has none", AUDIO_QUALITY),
    M("rubric_audio", AUDIO, 1.0, "global", SCORE,
      "share of the prompt's audio rubric questions the configured judge answers correctly", AUDIO_QUALITY),
    M("audio_music_consistency", AUDIO, 1.0, "cross-shot", SCORE,
      "tempo and chroma agreement of the music across shots", AUDIO_CONSISTENCY),
    M("audio_timbre_consistency", AUDIO, 1.0, "cross-shot", SCORE,
      "speaker-embedding similarity of the speech segments across shots", AUDIO_CONSISTENCY),
    M("audio_wer", AUDIO, 1.0, "intra-shot", SCORE,
      "1 - word error rate of the configured ASR backend against the script's dialogue", TEXT_SPEECH),
    # --- shot structure and camera adherence --------------------------------------------------------
    M("shot_count_match", SHOT, 1.0, "global", SCORE,
      "detected shot count against the scripted count", CAMERA),
    M("shot_boundary_timing", SHOT, 1.0, "cross-shot", SCORE,
      "mean absolute error of matched boundaries against the script's start times (0 at 1 s)", CAMERA),
    M("shot_transition_type", SHOT, 1.0, "cross-shot", SCORE,
      "share of matched boundaries whose kind (cut/gradual) agrees with the script's transition", CAMERA),
    M("shot_camera_scale", SHOT, 1.0, "intra-shot", SCORE,
      "shot scale from face or subject size against the script's shot_scale", CAMERA),
    M("shot_camera_motion", SHOT, 1.0, "intra-shot", SCORE,
      "camera motion from global motion (pan, tilt, zoom, static) against the script's camera_motion", CAMERA),
    M("shot_completion", SHOT, 0.0, "global", PENALTY,
      "valid (aligned) shots / scripted shots: MSAVBench's penalty on the overall score", CAMERA),
    M("rubric_camera", SHOT, 1.0, "intra-shot", SCORE,
      "share of the prompt's camera rubric questions the configured judge answers correctly", CAMERA),
    M("rubric_narrative", SHOT, 1.0, "global", SCORE,
      "share of the prompt's narrative rubric questions the configured judge answers correctly", NARRATIVE),
    # --- sync ---------------------------------------------------------------------------------------
    M("sync_offset", SYNC, 1.0, "global", SCORE,
      "global audio-visual offset from onset/motion cross-correlation, max(0, 1 - |dt| / 2 s)", AV_SYNC),
    M("sync_lip", SYNC, 1.0, "global", SCORE,
      "mouth opening (dlib landmarks) against the speech envelope inside VAD speech: correlation at the best "
      "offset, and that offset", LIP_SYNC),
    M("sync_sound_attribution", SYNC, 1.0, "global", SCORE,
      "with several faces visible, speech goes with the mouth that moves (the speaking face's activity "
      "during speech against the others')", LIP_SYNC),
    # --- reference ----------------------------------------------------------------------------------
    M("reference_subject_fidelity", REFERENCE, 1.0, "reference", SCORE,
      "similarity of the subject to the reference image in the shots it names (dlib face embedding; colour "
      "and keypoints for non-face subjects)", REFERENCE_FIDELITY),
    M("reference_scene_fidelity", REFERENCE, 1.0, "reference", SCORE,
      "similarity of the scene to the reference image in the shots it names (colour layout and keypoints)",
      REFERENCE_FIDELITY),
    M("reference_voice_fidelity", REFERENCE, 1.0, "reference", SCORE,
      "similarity of the voice to the reference recording in the shots it names", REFERENCE_FIDELITY),
)
del M

METRICS_BY_NAME: dict[str, MetricSpec] = {spec.name: spec for spec in METRICS}
PENALTY_METRIC = "shot_completion"


def metric_spec(name: str) -> MetricSpec:
    try:
        return METRICS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a metric of the catalog (scoring/engine/catalog.py)") from None


def metrics_of(dimension: str) -> tuple[MetricSpec, ...]:
    return tuple(spec for spec in METRICS if spec.dimension == dimension)


def metrics_of_paper_dimension(paper_dimension: str) -> tuple[MetricSpec, ...]:
    return tuple(spec for spec in METRICS if spec.paper_dimension == paper_dimension)


def _check() -> None:
    # Fail at import if the catalog contradicts itself: it is the single source of truth.
    assert len(METRICS_BY_NAME) == len(METRICS), "duplicate metric names"
    assert set(DIMENSION_WEIGHTS) == set(DIMENSIONS)
    assert set(PAPER_DIMENSION_WEIGHTS) == set(PAPER_DIMENSIONS) and len(PAPER_DIMENSIONS) == 11
    for spec in METRICS:
        assert spec.dimension in DIMENSIONS, f"{spec.name}: unknown dimension {spec.dimension!r}"
        assert spec.paper_dimension in PAPER_DIMENSIONS, f"{spec.name}: unknown paper dimension"
        assert spec.role in (SCORE, PENALTY) and spec.weight >= 0 and spec.level in LEVELS, spec.name
        assert (spec.role == PENALTY) == (spec.weight == 0.0), f"{spec.name}: only the penalty has weight 0"
    assert METRICS_BY_NAME[PENALTY_METRIC].role == PENALTY
    for dimension in PAPER_DIMENSIONS:
        assert any(s.role == SCORE for s in metrics_of_paper_dimension(dimension)), f"{dimension}: no metric"


_check()
