"""python manage.py run_platform: web (gunicorn), a Celery worker and Celery beat, in the foreground."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand, CommandParser

from leaderboard.demo_seed import DEMO_ACCOUNTS


class Command(BaseCommand):
    help = "Run the whole platform on this machine: gunicorn, a Celery worker and beat; Ctrl-C stops all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--concurrency", type=int, default=2, help="worker processes for scoring")

    def handle(self, *args: object, host: str, port: int, concurrency: int, **options: object) -> None:
        python = sys.executable
        commands = {
            "web": [python, "-m", "gunicorn", "config.wsgi", "--bind", f"{host}:{port}", "--workers", "2",
                    "--threads", "4", "--timeout", "300", "--access-logfile", "-"],
            "worker": [python, "-m", "celery", "-A", "config", "worker", "--queues", "bookkeeping,scoring",
                       "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-mingle",
                       "--without-gossip", "--hostname", "worker@%h"],
            "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING"],
        }
        processes = {name: subprocess.Popen(command) for name, command in commands.items()}
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        time.sleep(2)
        self.stdout.write(self.style.SUCCESS(f"\nMSAV Arena is running at http://{host}:{port}/"))
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  log in as {account.username:<11} password {account.password:<17} ({account.role})")
        self.stdout.write("  Ctrl-C stops web, worker and beat.\n")
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with code {process.returncode}; stopping the platform")
                    stopping, exit_code = True, 1
            time.sleep(0.5)
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(exit_code)
