"""Version strings of the packages that produce metric values, recorded next to every value."""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata

# PyPI distribution names of the import names the engine uses.
_DISTRIBUTIONS = {"av": "av", "numpy": "numpy", "scipy": "scipy", "skimage": "scikit-image", "pyloudnorm": "pyloudnorm"}


@lru_cache(maxsize=None)
def package_version(name: str) -> str:
    """The installed version of a package by import name, or 'unknown'."""
    try:
        return metadata.version(_DISTRIBUTIONS.get(name, name))
    except metadata.PackageNotFoundError:
        return "unknown"


def tool_versions(*names: str) -> str:
    """'engine 0.1.0; av 18.1.0; numpy 2.4.6' for the engine and the named packages."""
    from . import ENGINE_VERSION

    return "; ".join([f"engine {ENGINE_VERSION}"] + [f"{name} {package_version(name)}" for name in names])
