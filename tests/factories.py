"""Test data builders: users with roles, models, imported demo suites, archives built from demo clips."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from leaderboard import services
from leaderboard.models import ModelEntry, Suite


def user_with_role(username: str, role: str | None = "researcher", **extra: object):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(username, f"{username}@example.org", "pw-" + username, **extra)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def model_entry(name: str = "Test Model", owner=None) -> ModelEntry:  # type: ignore[no-untyped-def]
    return services.model_entry_create(name=name, owner=owner, organisation="Test Lab")


def import_demo_suite(demo_dir: Path) -> Suite:
    return services.suite_import(path=demo_dir / "suite").suite


def demo_models(demo_dir: Path) -> list[dict]:
    return json.loads((demo_dir / "models.json").read_text())


def demo_archive(demo_dir: Path, slug: str) -> Path:
    return demo_dir / "submissions" / f"{slug}.zip"


def rezip(source: Path, *, drop: set[str] = frozenset(), replace: dict[str, bytes] | None = None,
          add: dict[str, bytes] | None = None) -> bytes:
    """A copy of a submission zip with members dropped, replaced or added (names taken literally)."""
    out = io.BytesIO()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            data = (replace or {}).get(info.filename, src.read(info))
            dst.writestr(info.filename, data)
        for name, data in (add or {}).items():
            dst.writestr(zipfile.ZipInfo(name), data)
    return out.getvalue()
