"""The console command's allocator tunable (interestgraph.malloc)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from interestgraph.malloc import HUGETLB, wants_reexec

GLIBC = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_wants_reexec_only_when_unset_and_not_turned_off() -> None:
    assert wants_reexec({}) is (tuple(map(int, platform.libc_ver()[1].split(".")[:2])) >= (2, 35))
    assert not wants_reexec({"GLIBC_TUNABLES": HUGETLB})
    assert not wants_reexec({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"})
    assert not wants_reexec({"INTERESTGRAPH_MALLOC": "default"})


@pytest.mark.skipif(not GLIBC or not wants_reexec({}), reason="needs glibc >= 2.35")
def test_reexec_runs_the_command_once_with_the_tunable() -> None:
    code = (
        "import os; from interestgraph.malloc import reexec_with_tunables; "
        "reexec_with_tunables(); print(os.environ['GLIBC_TUNABLES'])"
    )
    drop = ("GLIBC_TUNABLES", "INTERESTGRAPH_MALLOC")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["GLIBC_TUNABLES"] = "glibc.malloc.arena_max=4"  # kept, the new one appended
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines() == [f"glibc.malloc.arena_max=4:{HUGETLB}"]
