"""The pure (no-Django) modules stay strictly typed: `mypy --strict` over the files of pyproject's [tool.mypy]."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_pure_modules_pass_mypy_strict() -> None:
    # No arguments: pyproject.toml's [tool.mypy] section says what to check and how strictly.
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"mypy failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
