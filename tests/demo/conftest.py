"""Fixtures of the demo-generator tests: one small demo slice rendered once per session."""

from __future__ import annotations

import pytest

from leaderboard.demo.generator import DemoManifest, generate_demo

SLICE_MODELS = ["aurora-av", "driftsync"]  # the reference model; +400 ms audio and no narrative-001
SLICE_PROMPTS = ["dialogue-001", "advert-002", "narrative-001"]  # hard cuts; a dissolve; 15 shots


@pytest.fixture(scope="session")
def demo_slice(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    out = tmp_path_factory.mktemp("demo-slice")
    return generate_demo(out, models=SLICE_MODELS, prompts=SLICE_PROMPTS, workers=2)
