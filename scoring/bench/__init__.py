"""Benchmarks and labelled footage for the scoring engine (not part of the engine: may use peers such as scenedetect)."""
