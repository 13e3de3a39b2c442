"""Synthetic demo content for MSAV Arena: the msav-demo suite, demo model submissions and their ground truth."""

from .generator import DemoManifest, demo_is_complete, generate_demo, load_manifest
from .roster import DEMO_MODELS
from .suite import SUITE_NAME, demo_suite

__all__ = ["DEMO_MODELS", "SUITE_NAME", "DemoManifest", "demo_is_complete", "demo_suite", "generate_demo", "load_manifest"]
