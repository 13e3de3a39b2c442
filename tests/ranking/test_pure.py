"""The ranking statistics stay pure: they import and run with Django made unimportable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import sys
sys.modules["django"] = None  # any `import django...` now raises ImportError
from annotation.stats import bradley_terry, correlation, weights_fit
counts = bradley_terry.aggregate_arrays(["a", "b"], ["b", "c"], ["model_a", "tie"])
print(bradley_terry.rate(counts, ci="sandwich").rows()[0].model)
"""


def test_statistics_import_without_django() -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "a"
