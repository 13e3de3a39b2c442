"""Pairwise human judgments of clips."""
