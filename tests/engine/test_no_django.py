"""The engine is a pure library: every module imports with Django made unimportable."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import scoring.engine

ENGINE_DIR = Path(scoring.engine.__file__).resolve().parent


def engine_modules() -> list[str]:
    names = ["scoring.engine"]
    for info in pkgutil.walk_packages([str(ENGINE_DIR)], prefix="scoring.engine."):
        names.append(info.name)
    return sorted(names)


def test_engine_has_the_expected_modules() -> None:
    names = set(engine_modules())
    for expected in (
        "scoring.engine.probe",
        "scoring.engine.decode",
        "scoring.engine.segmentation",
        "scoring.engine.catalog",
        "scoring.engine.aggregate",
        "scoring.engine.pipeline",
        "scoring.engine.script",
        "scoring.engine.metrics.video",
        "scoring.engine.metrics.audio",
        "scoring.engine.metrics.shot",
        "scoring.engine.metrics.sync",
    ):
        assert expected in names


def test_every_engine_module_imports_without_django() -> None:
    modules = engine_modules()
    code = "\n".join(
        [
            "import importlib, sys",
            "sys.modules['django'] = None  # any 'import django...' now raises ImportError",
            f"for name in {modules!r}:",
            "    importlib.import_module(name)",
            "import scoring.engine as engine",
            "for name in engine.__all__:",
            "    getattr(engine, name)  # the lazy re-exports resolve too",
            "loaded = [m for m, mod in sys.modules.items() if mod is not None and m.split('.')[0] == 'django']",
            "assert not loaded, loaded",
            "print('ok', len(" + repr(modules) + "))",
        ]
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")
