"""One human pairwise comparison as the ranking code sees it (pure: no Django)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Winner = Literal["model_a", "model_b", "tie", "both_bad"]
WINNERS: tuple[Winner, ...] = ("model_a", "model_b", "tie", "both_bad")

# A judgment's outcome (relative to the clips as shown, A and B) -> the battle's winner column.
OUTCOME_TO_WINNER: dict[str, Winner] = {"a": "model_a", "b": "model_b", "both_good": "tie", "both_bad": "both_bad"}


@dataclass(frozen=True)
class BattleRow:
    """A judged pair of models: `model_a` is the model whose clip was shown as A (LMArena's battle columns)."""

    model_a: str
    model_b: str
    winner: Winner
    dimension: str
    annotator: str
    prompt: str
    weight: float = 1.0
    is_simulated: bool = False

    def score_a(self) -> float:
        """Model A's share of the win: 1, 0, or 0.5 for a tie of either kind (MSAVBench counts ties as 0.5)."""
        if self.winner == "model_a":
            return 1.0
        if self.winner == "model_b":
            return 0.0
        return 0.5
