"""Per-clip time and memory limits for the process that scores a clip (a Celery pool child).

Three layers, so that one pathological clip can never hold a worker:

- soft (this module's watchdog): a thread samples the process's resident memory and the elapsed
  time; past a limit it interrupts the main thread with `ClipMemoryLimitExceeded` or
  `ClipTimeLimitExceeded`. Both derive from BaseException, so no `except Exception` inside the
  engine can swallow them: the clip fails with the reason and the worker takes the next clip.
- hard: the address-space limit (RLIMIT_AS) caps what the process may allocate while it scores,
  even inside C code that never returns to Python; Celery's hard `time_limit` kills a child that
  stops answering, and `worker_max_memory_per_child` replaces a child left bloated after a clip.
- the broker's visibility timeout and the beat reaper recover what a killed process left behind.
"""

from __future__ import annotations

import _thread
import ctypes
import os
import resource
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
# The signal the watchdog raises in the main thread (simulated with _thread.interrupt_main, never
# sent to other processes); SIGUSR1 is billiard's soft-time-limit signal, so this uses SIGUSR2.
INTERRUPT_SIGNAL = signal.SIGUSR2


class ClipLimitExceeded(BaseException):
    """A clip went over one of its limits; `reason` says which and by how much."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ClipTimeLimitExceeded(ClipLimitExceeded):
    pass


class ClipMemoryLimitExceeded(ClipLimitExceeded):
    pass


def resident_bytes() -> int:
    """This process's resident set size (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def address_space_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


@dataclass
class LimitWatch:
    """What the watchdog saw while one clip was scored."""

    time_limit_s: float
    memory_limit_mb: float
    started: float = field(default_factory=time.monotonic)
    start_rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    tripped: ClipLimitExceeded | None = None

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started


@contextmanager
def clip_limits(*, time_limit_s: float, memory_limit_mb: float, address_space_mb: float) -> Iterator[LimitWatch]:
    """Run the body under a soft time limit, a soft resident-memory limit and a hard address-space cap.

    memory_limit_mb is how much resident memory (what `top` shows as RES) the body may add to what
    the process held when it started, so one clip is judged by what it takes, not by what an earlier
    clip left behind (a pool child that stays large is replaced by Celery's worker_max_memory_per_child).
    address_space_mb (0: none) is how much address space the body may add to what the process already
    maps. Limits <= 0 are off. Interrupting needs the main thread (a Celery pool child runs its task
    there); elsewhere the limits are only measured, and the address-space cap still holds.
    """
    watch = LimitWatch(time_limit_s=time_limit_s, memory_limit_mb=memory_limit_mb)
    watch.start_rss_mb = watch.peak_rss_mb = resident_bytes() / MIB
    in_main_thread = threading.current_thread() is threading.main_thread()
    stop = threading.Event()

    def on_interrupt(signum: int, frame: object) -> None:
        if watch.tripped is not None and not stop.is_set():
            raise watch.tripped

    def watchdog() -> None:
        while not stop.wait(0.05):
            rss_mb = resident_bytes() / MIB
            watch.peak_rss_mb = max(watch.peak_rss_mb, rss_mb)
            if watch.tripped is not None:
                continue
            if memory_limit_mb > 0 and rss_mb - watch.start_rss_mb > memory_limit_mb:
                watch.tripped = ClipMemoryLimitExceeded(
                    f"over the memory limit: scoring it took {rss_mb - watch.start_rss_mb:.0f} MiB of resident memory "
                    f"(limit {memory_limit_mb:.0f} MiB per clip; the process reached {rss_mb:.0f} MiB)"
                )
            elif time_limit_s > 0 and watch.elapsed_s > time_limit_s:
                watch.tripped = ClipTimeLimitExceeded(f"over the time limit: scoring took longer than {time_limit_s:g} s")
            if watch.tripped is not None and in_main_thread:
                _thread.interrupt_main(INTERRUPT_SIGNAL)

    previous_handler = signal.signal(INTERRUPT_SIGNAL, on_interrupt) if in_main_thread else None
    soft_as, hard_as = resource.getrlimit(resource.RLIMIT_AS)
    if address_space_mb > 0:
        cap = address_space_bytes() + int(address_space_mb * MIB)
        if hard_as != resource.RLIM_INFINITY:
            cap = min(cap, hard_as)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard_as))
    thread = threading.Thread(target=watchdog, name="clip-limits", daemon=True)
    thread.start()
    try:
        yield watch
        if watch.tripped is not None:
            # Tripped while the main thread was inside C code that then returned normally.
            raise watch.tripped
    finally:
        # The interrupt is checked between bytecodes: one may still land on the way into this block,
        # before `stop` is set; after that the handler ignores it.
        while not stop.is_set():
            try:
                stop.set()
            except ClipLimitExceeded:
                pass
        thread.join()
        if address_space_mb > 0:
            resource.setrlimit(resource.RLIMIT_AS, (soft_as, hard_as))
        if in_main_thread:
            signal.signal(INTERRUPT_SIGNAL, previous_handler)
        if watch.tripped is not None:
            release_free_memory()


def release_free_memory() -> None:
    """Hand freed heap memory back to the system (glibc keeps it otherwise), so that a clip stopped at
    its memory limit does not leave the worker process large; best effort, a no-op elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
