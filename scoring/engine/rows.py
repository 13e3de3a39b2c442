"""`RowBuffer`: rows of one shape gathered into one array that grows, without a list of small arrays."""

from __future__ import annotations

import numpy as np


class RowBuffer:
    """Rows of one shape (a thumbnail per frame, a sample of sound per channel pair), added one or a block at a
    time into one array made for the expected count and grown by half when full: a list of small arrays joined
    at the end would hold every row twice, and leave the heap fragmented by the freed ones."""

    def __init__(self, expected_rows: int = 0) -> None:
        self.expected = expected_rows
        self._rows: np.ndarray | None = None
        self.count = 0

    def append(self, row: np.ndarray) -> None:
        self.extend(row[None])

    def extend(self, block: np.ndarray) -> None:
        end = self.count + block.shape[0]
        if self._rows is None:
            self._rows = np.empty((max(16, self.expected, end), *block.shape[1:]), dtype=block.dtype)
        elif end > self._rows.shape[0]:
            grown = np.empty((max(end, self._rows.shape[0] * 3 // 2), *block.shape[1:]), dtype=block.dtype)
            grown[: self.count] = self._rows[: self.count]
            self._rows = grown
        self._rows[self.count : end] = block
        self.count = end

    def view(self) -> np.ndarray:
        """The rows appended so far (a view, valid until the next append)."""
        assert self._rows is not None
        rows: np.ndarray = self._rows[: self.count]
        return rows

    def __len__(self) -> int:
        return self.count

    def last(self, k: int) -> np.ndarray:
        """The k-th row from the end (1: the last one appended)."""
        assert self._rows is not None and 0 < k <= self.count
        row: np.ndarray = self._rows[self.count - k]
        return row

    def finish(self) -> np.ndarray | None:
        """The rows appended, as one array (None if there were none); the unused capacity is handed back."""
        rows, self._rows = self._rows, None
        if rows is None or not self.count:
            return None
        rows.resize((self.count, *rows.shape[1:]), refcheck=False)  # in place: keeps the first rows
        return rows
