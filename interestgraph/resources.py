"""Peak memory of processes, for the per-stage figures of the main job and the benchmarks.

Linux reports a process's peak resident set (``VmHWM`` in ``/proc/<pid>/status``), and
writing ``5`` to ``/proc/<pid>/clear_refs`` resets that peak to the current RSS, so a
stage's own peak can be measured by resetting at its start. Where ``/proc`` is missing
(macOS) the figures are ``None``; where the reset is not permitted, peaks are cumulative
(``resettable`` says so).
"""

from __future__ import annotations

import contextlib
import resource
import sys
from pathlib import Path

__all__ = ["peak_rss_gib", "reset_peak", "rss_gib"]

_GIB = 2**30


def _status_kib(pid: int | str, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def peak_rss_gib(pid: int | str = "self") -> float | None:
    """Peak resident memory of ``pid`` (default this process) in GiB, since its last reset."""
    kib = _status_kib(pid, "VmHWM")
    if kib is None and pid == "self":
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, B on macOS
        return peak / (_GIB if sys.platform == "darwin" else 2**20)
    return None if kib is None else kib / 2**20


def rss_gib(pid: int | str = "self") -> float | None:
    """Current resident memory of ``pid`` in GiB."""
    kib = _status_kib(pid, "VmRSS")
    return None if kib is None else kib / 2**20


def reset_peak(pid: int | str = "self") -> bool:
    """Reset ``pid``'s peak RSS to its current RSS; False when not possible."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    return False
