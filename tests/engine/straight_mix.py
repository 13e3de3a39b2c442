"""What the segmenter accepts as a straight-mix dissolve, composed from its parts for the tests that check it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scoring.engine.features import MixFit
from scoring.engine.segmentation import _best_straight_mix, _different_pictures, _mix_fits_and_holds


def dissolve_mix(
    g: np.ndarray, energy: tuple[np.ndarray, np.ndarray], centre: float, cut_frames: Sequence[int], spectra: np.ndarray
) -> MixFit | None:
    """The best straight mix around `centre` if `_as_straight_mix` would accept it as a dissolve (it fits and
    holds like a mix, between different pictures); None otherwise."""
    best = _best_straight_mix(g, centre, cut_frames)
    if best is None or not _mix_fits_and_holds(g, energy, best) or not _different_pictures(g, best, spectra):
        return None
    return best
