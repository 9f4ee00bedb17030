"""The process's memory allocator: tcmalloc when installed, else glibc with huge pages.

Why: torch's CPU tensors come from ``malloc``. glibc maps blocks above its largest mmap
threshold (32 MB) fresh at every allocation and unmaps them when freed, so every such
tensor is page-faulted and zeroed by the kernel again at every training step. On a
10M-purchase shop the step's tensors are ~100-400 MB each, and the kernel's work
becomes a large part of the step. Measured with ``bench/train_step.py``
(``docs/scale.md``), seconds per step at 2.4M / 7.2M / 25M message edges:

* glibc defaults: faults ~4.7M pages per step at 25M edges;
* ``GLIBC_TUNABLES=glibc.malloc.hugetlb=1`` (glibc >= 2.35): transparent huge pages on
  those mappings, ~75x fewer faults, the same peak; still ~7 s of kernel time per 22 s
  step at 25M edges on the 2026-12-03 machine;
* **tcmalloc** (gperftools' ``libtcmalloc_minimal``, preloaded): keeps freed pages and
  reuses them, 1.54 / 4.85 / 19.17 s against huge-page glibc's 1.82 / 5.94 / 21.93 s,
  with a 10-35 % lower peak RSS. Turning glibc's mmap off (``M_MMAP_MAX=0``) was as fast
  at 7.2M edges but held ~2x the peak at 25M; jemalloc and oneTBB's tbbmalloc (default
  settings) return freed pages to the kernel and were the slowest (9-10 s at 7.2M).

``INTERESTGRAPH_MALLOC`` chooses: ``auto`` (default: tcmalloc when its library is found,
else huge-page glibc on glibc >= 2.35), ``tcmalloc`` (required; an error when missing),
``hugetlb`` or ``default`` (nothing changed). ``make bootstrap`` puts Debian's
``libtcmalloc_minimal.so.4`` into the virtual environment's ``lib`` folder when
``apt-get`` is there; ``INTERESTGRAPH_TCMALLOC`` names another copy.

The allocator is chosen when a process starts, so :func:`reexec` restarts the console
command once with the setting (``LD_PRELOAD`` or ``GLIBC_TUNABLES``) and then removes the
preload from its own environment: the Neo4j JVM, Maven and ``neo4j-admin`` that the
command starts keep their own allocator. :func:`active` reports what the process runs on.
"""

from __future__ import annotations

import ctypes.util
import os
import platform
import sys
from pathlib import Path

__all__ = ["HUGETLB", "MODES", "TCMALLOC", "active", "plan", "reexec", "tcmalloc_path"]

HUGETLB = "glibc.malloc.hugetlb=1"
TCMALLOC = "libtcmalloc_minimal.so.4"
MODES = ("auto", "tcmalloc", "hugetlb", "default")
_MIN_GLIBC = (2, 35)  # first glibc with the malloc.hugetlb tunable
_MARK = "INTERESTGRAPH_MALLOC_ACTIVE"  # set for the one re-exec, removed after it
#: tcmalloc reports every allocation above this to stderr (its default is 1 GiB)
_REPORT = "TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD"


def tcmalloc_path(environ: dict[str, str] | None = None) -> str | None:
    """The tcmalloc library to preload: ``INTERESTGRAPH_TCMALLOC``, else the virtual
    environment's ``lib/`` (where ``make bootstrap`` puts it), else the system's."""
    env = os.environ if environ is None else environ
    explicit = env.get("INTERESTGRAPH_TCMALLOC")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    local = Path(sys.prefix) / "lib" / TCMALLOC
    if local.is_file():
        return str(local)
    return ctypes.util.find_library("tcmalloc_minimal")


def _glibc_hugetlb_ok() -> bool:
    lib, version = platform.libc_ver()
    try:
        parsed = tuple(int(p) for p in version.split(".")[:2])
    except ValueError:
        return False
    return lib == "glibc" and parsed >= _MIN_GLIBC


def plan(environ: dict[str, str] | None = None) -> dict[str, str] | None:
    """The environment to restart with, or ``None`` when nothing is to change (see the
    module doc). Raises :class:`SystemExit` with the fix for an unknown mode or a
    required tcmalloc that is not installed."""
    env = os.environ if environ is None else environ
    mode = env.get("INTERESTGRAPH_MALLOC", "auto")
    if mode not in MODES:
        raise SystemExit(
            f"error: INTERESTGRAPH_MALLOC={mode!r} is not one of {', '.join(MODES)} "
            "(unset it for the default, auto)"
        )
    if sys.platform != "linux" or mode == "default" or _MARK in env:
        return None
    if mode in ("auto", "tcmalloc"):
        lib = tcmalloc_path(env)
        if lib:
            preload = env.get("LD_PRELOAD", "")
            return {
                "LD_PRELOAD": f"{lib}:{preload}" if preload else lib,
                _REPORT: env.get(_REPORT, str(2**40)),
                _MARK: f"tcmalloc:{lib}",
            }
        if mode == "tcmalloc":
            raise SystemExit(
                f"error: INTERESTGRAPH_MALLOC=tcmalloc but {TCMALLOC} was not found; run "
                "`make bootstrap` (Debian/Ubuntu: fetches it into .venv/lib), install "
                "libtcmalloc-minimal4, or set INTERESTGRAPH_TCMALLOC=/path/to/the/library"
            )
    tunables = env.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.hugetlb" in tunables or not _glibc_hugetlb_ok():
        return None
    return {
        "GLIBC_TUNABLES": f"{tunables}:{HUGETLB}" if tunables else HUGETLB,
        _MARK: "hugetlb",
    }


def _forget_preload() -> None:
    """After the re-exec: drop our preload from the environment children inherit."""
    mark = os.environ.pop(_MARK, "")
    if not mark.startswith("tcmalloc:"):
        return
    lib = mark.partition(":")[2]
    rest = [p for p in os.environ.get("LD_PRELOAD", "").split(":") if p and p != lib]
    if rest:
        os.environ["LD_PRELOAD"] = ":".join(rest)
    else:
        os.environ.pop("LD_PRELOAD", None)


def reexec() -> None:
    """Restart the running command once with the allocator of :func:`plan` (a no-op when
    there is nothing to change, or after the restart)."""
    if _MARK in os.environ:
        _forget_preload()
        return
    changes = plan()
    argv = list(getattr(sys, "orig_argv", []))
    if changes is None or not argv:
        return
    os.environ.update(changes)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *argv[1:]])


def active() -> str:
    """The allocator of this process: ``tcmalloc`` (its library is mapped), ``glibc
    hugetlb`` (the tunable is set) or ``glibc`` / ``system``."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        maps = ""
    if "libtcmalloc" in maps:
        return "tcmalloc"
    if platform.libc_ver()[0] != "glibc":
        return "system"
    return "glibc hugetlb" if HUGETLB in os.environ.get("GLIBC_TUNABLES", "") else "glibc"
