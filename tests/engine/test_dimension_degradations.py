"""Graded degradations of the shot and sync dimensions, scored end to end (`score_clip`), rank in order.

The video and audio dimensions have theirs metric by metric (test_vision_quality_ranking.py,
test_audio_degradations.py), the reference dimension in test_reference_fidelity.py; these two are judged
on the dimension score itself.
"""

from __future__ import annotations

from scipy import stats

from scoring.engine import score_clip
from scoring.engine.metrics.base import MEASURED


def test_audio_later_and_later_lowers_the_sync_dimension(synth) -> None:
    offsets_s = [0.0, 0.2, 0.5, 1.0]
    results = [score_clip(synth(f"sync_{offset:+.1f}").path, None) for offset in offsets_s]
    assert all(r.metrics["sync_offset"].status == MEASURED for r in results), [r.evidence["sync"] for r in results]
    scores = [r.dimensions["sync"] for r in results]
    assert all(s is not None for s in scores)
    rho = stats.spearmanr(offsets_s, scores).statistic
    assert rho <= -0.95 and scores == sorted(scores, reverse=True), (scores, rho)


def test_scripted_shots_left_out_lower_the_shot_dimension(synth, make_script) -> None:
    # The script asks for five 2 s shots; the clips make 5, 4, 3, 2 of them (the last one made runs on).
    # The correction loop must not split a long shot where the script expected a change the clip never made.
    script = make_script([0.0, 2.0, 4.0, 6.0, 8.0], 10.0)
    made = [5, 4, 3, 2]
    results = [score_clip(synth(f"shots_made_{count}").path, script) for count in made]
    valid = [r.evidence["shots"]["valid_count"] for r in results]
    assert valid == made, [r.evidence["shots"]["corrections"] for r in results]
    scores = [r.dimensions["shot"] for r in results]
    rho = stats.spearmanr(made, scores).statistic
    assert rho >= 0.95 and scores == sorted(scores, reverse=True) and len(set(scores)) == 4, (scores, rho)
