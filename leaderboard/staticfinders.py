"""A static files finder for Plotly: serves `js/vendor/plotly.min.js` from the installed plotly package.

The charts must work offline (no CDN), and copying the 4.8 MB bundle into the repository would
duplicate what the `plotly` dependency already ships; this finder exposes exactly that one file, so
`runserver`, WhiteNoise and `collectstatic` all find it and its version follows the package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

PLOTLY_STATIC_PATH = "js/vendor/plotly.min.js"


def plotly_bundle() -> Path | None:
    try:
        import plotly
    except ImportError:
        return None
    path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


class PlotlyFinder(BaseFinder):
    def check(self, **kwargs: Any) -> list[Error]:
        if plotly_bundle() is None:
            return [Error("plotly.min.js not found: install the `plotly` package (the charts need its bundle)", id="leaderboard.E001")]
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> str | list[str]:
        bundle = plotly_bundle()
        if path == PLOTLY_STATIC_PATH and bundle is not None:
            return [str(bundle)] if find_all or kwargs.get("all") else str(bundle)
        return [] if find_all or kwargs.get("all") else ""

    def list(self, ignore_patterns: Any) -> Any:
        bundle = plotly_bundle()
        if bundle is None:
            return
        storage = FileSystemStorage(location=str(bundle.parent))
        storage.prefix = str(Path(PLOTLY_STATIC_PATH).parent)  # collectstatic puts it under js/vendor/
        yield bundle.name, storage
