"""The process's memory-allocator setting: glibc's transparent huge pages for large blocks.

Why: torch's CPU tensors come from glibc ``malloc``. Blocks above glibc's largest mmap
threshold (32 MB) are mapped fresh at every allocation and unmapped when freed, so each
one is page-faulted again in 4 KiB pages. A training step on a 1M-purchase shop allocates
tensors of ~25 MB (re-used from the heap, no faults); on a 10M-purchase shop they are
~300 MB, and a step page-faults ~20 GB (4.7M faults and 14 s of system time in a 20 s
step at 25M message edges). With ``GLIBC_TUNABLES=glibc.malloc.hugetlb=1`` (glibc ≥ 2.35)
``malloc`` asks for transparent huge pages on those mappings: 12.6 s per step, ~75× fewer
faults, the same peak memory.
Measured in ``docs/scale.md``. Turning off the mmap threshold instead (``M_MMAP_MAX=0``)
is faster still but holds freed blocks in the heap: ~2× the training peak, so it is not used.

The tunable is read once when the process starts, so :func:`reexec_with_tunables`
re-executes the console command once with it set. ``INTERESTGRAPH_MALLOC=default`` turns
this off.
"""

from __future__ import annotations

import os
import platform
import sys

__all__ = ["HUGETLB", "reexec_with_tunables", "wants_reexec"]

HUGETLB = "glibc.malloc.hugetlb=1"
_MIN_GLIBC = (2, 35)  # first glibc with the malloc.hugetlb tunable


def wants_reexec(environ: dict[str, str] | None = None) -> bool:
    """True when this process should restart with :data:`HUGETLB` (Linux glibc ≥ 2.35,
    not set yet, not turned off with ``INTERESTGRAPH_MALLOC=default``)."""
    env = os.environ if environ is None else environ
    if sys.platform != "linux" or env.get("INTERESTGRAPH_MALLOC", "hugetlb") == "default":
        return False
    if "glibc.malloc.hugetlb" in env.get("GLIBC_TUNABLES", ""):
        return False
    lib, version = platform.libc_ver()
    try:
        parsed = tuple(int(p) for p in version.split(".")[:2])
    except ValueError:
        return False
    return lib == "glibc" and parsed >= _MIN_GLIBC


def reexec_with_tunables() -> None:
    """Re-execute the running command with :data:`HUGETLB` added to ``GLIBC_TUNABLES``
    (see the module doc); returns without doing anything when it is not wanted."""
    if not wants_reexec():
        return
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    os.environ["GLIBC_TUNABLES"] = f"{tunables}:{HUGETLB}" if tunables else HUGETLB
    argv = list(getattr(sys, "orig_argv", []))
    if not argv:  # pragma: no cover - Python < 3.10
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *argv[1:]])
