"""Abort resumable uploads nobody has touched for a while and free their disk space."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from leaderboard import services


class Command(BaseCommand):
    help = "Abort open chunked uploads untouched for --older-than-hours (default MSAV_UPLOAD_EXPIRE_AFTER_H) and delete their bytes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-hours", type=float, default=settings.MSAV_UPLOAD_EXPIRE_AFTER_H)

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.upload_sessions_expire(older_than=datetime.timedelta(hours=options["older_than_hours"]))
        self.stdout.write(f"expired {count} upload(s) untouched for {options['older_than_hours']:g} h")
