"""The console command's allocator choice (interestgraph.malloc)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from interestgraph.malloc import HUGETLB, TCMALLOC, plan, tcmalloc_path

LINUX = sys.platform == "linux"
GLIBC = LINUX and platform.libc_ver()[0] == "glibc"
HUGE_OK = GLIBC and tuple(map(int, platform.libc_ver()[1].split(".")[:2])) >= (2, 35)
MARK = "INTERESTGRAPH_MALLOC_ACTIVE"


@pytest.mark.skipif(not LINUX, reason="Linux only")
def test_plan_prefers_tcmalloc_then_huge_pages(tmp_path) -> None:
    lib = tmp_path / TCMALLOC
    lib.write_bytes(b"")
    env = {"INTERESTGRAPH_TCMALLOC": str(lib), "LD_PRELOAD": "/other.so"}
    got = plan(env)
    assert got is not None
    assert got["LD_PRELOAD"] == f"{lib}:/other.so"  # ours first, the user's kept
    assert got[MARK] == f"tcmalloc:{lib}"
    missing = {"INTERESTGRAPH_TCMALLOC": str(tmp_path / "absent.so")}
    fallback = plan(missing)
    if HUGE_OK:
        assert fallback == {"GLIBC_TUNABLES": HUGETLB, MARK: "hugetlb"}
    else:
        assert fallback is None
    assert plan({**env, "INTERESTGRAPH_MALLOC": "hugetlb"}) == fallback
    assert plan({**env, "INTERESTGRAPH_MALLOC": "default"}) is None
    assert plan({**env, MARK: "tcmalloc:x"}) is None  # after the one restart
    assert plan({**missing, "GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}) is None


def test_plan_errors_name_the_variable_and_the_fix(tmp_path) -> None:
    with pytest.raises(SystemExit, match="INTERESTGRAPH_MALLOC='fast' is not one of auto"):
        plan({"INTERESTGRAPH_MALLOC": "fast"})
    if LINUX:
        absent = {"INTERESTGRAPH_MALLOC": "tcmalloc", "INTERESTGRAPH_TCMALLOC": "/nope.so"}
        with pytest.raises(SystemExit, match="make bootstrap"):
            plan(absent)


_CHILD = (
    "import json, os; from interestgraph.malloc import active, reexec; reexec(); "
    "print(json.dumps({'active': active(), 'preload': os.environ.get('LD_PRELOAD'), "
    "'tunables': os.environ.get('GLIBC_TUNABLES'), "
    "'mark': os.environ.get('INTERESTGRAPH_MALLOC_ACTIVE')}))"
)


def _child(**env: str) -> dict:
    drop = ("GLIBC_TUNABLES", "INTERESTGRAPH_MALLOC", "LD_PRELOAD", MARK)
    base = {k: v for k, v in os.environ.items() if k not in drop}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], env={**base, **env}, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not LINUX or tcmalloc_path({}) is None, reason="tcmalloc not installed")
def test_reexec_runs_on_tcmalloc_and_children_do_not_inherit_it() -> None:
    got = _child()
    assert got["active"] == "tcmalloc"  # the library is mapped into the restarted process
    assert got["preload"] is None and got["mark"] is None  # not passed on to children


@pytest.mark.skipif(not HUGE_OK, reason="needs glibc >= 2.35")
def test_reexec_with_huge_pages_keeps_other_tunables() -> None:
    got = _child(INTERESTGRAPH_MALLOC="hugetlb", GLIBC_TUNABLES="glibc.malloc.arena_max=4")
    assert got["tunables"] == f"glibc.malloc.arena_max=4:{HUGETLB}"
    assert got["active"] == "glibc hugetlb"
    assert _child(INTERESTGRAPH_MALLOC="default")["active"] == "glibc"
