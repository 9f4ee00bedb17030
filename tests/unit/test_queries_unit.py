"""The query library's registry: headers, parameters, binding, the Browser guide."""

from __future__ import annotations

import re

import pytest

from interestgraph.errors import InputError
from interestgraph.queries import BUILTIN_DIR, load_library
from interestgraph.service.guide import browser_guide

WRITE_CLAUSES = re.compile(r"\b(CREATE|MERGE|DELETE|SET|REMOVE|DROP|LOAD\s+CSV)\b", re.I)


def test_builtin_library_loads_with_headers_and_declared_parameters():
    lib = load_library()
    assert len(lib) >= 12
    for name, q in lib.items():
        assert q.path.parent == BUILTIN_DIR and q.path.stem == name
        assert q.purpose and q.example.startswith(f"interestgraph query {name}")
        # the library only reads (dropping its own in-memory GDS projection writes nothing)
        assert not WRITE_CLAUSES.search(q.cypher.replace("gds.graph.drop(", "")), name
        # the example binds: its -p values fit the declared types, required ones are given
        args = q.example.split()[3:]
        given = {args[i + 1]: args[i + 2] for i in range(0, len(args), 3)}
        q.bind(given)


def test_bind_types_defaults_and_errors():
    q = load_library()["user-interests"]
    assert q.bind({"user_id": "2"}) == {"user_id": "2", "k": 10}
    assert q.bind({"user_id": "2", "k": "5"}) == {"user_id": "2", "k": 5}
    with pytest.raises(InputError, match="needs parameter user_id"):
        q.bind({})
    with pytest.raises(InputError, match="has no parameter kk; its parameters: user_id, k"):
        q.bind({"user_id": "2", "kk": 1})
    with pytest.raises(InputError, match="k must be integer, got 'ten'"):
        q.bind({"user_id": "2", "k": "ten"})
    with pytest.raises(InputError, match="k must be integer, got True"):
        q.bind({"user_id": "2", "k": True})
    cmp = load_library()["compare-runs"]
    assert cmp.bind({}) == {"run_a": None, "run_b": None}


def _write(tmp_path, name, text):
    (tmp_path / f"{name}.cypher").write_text(text)


def test_malformed_files_are_refused_with_the_file_and_the_fix(tmp_path):
    head = "// name: q\n// purpose: p\n// example: interestgraph query q\n"
    _write(tmp_path, "q", head + "MATCH (n) WHERE n.x = $undeclared RETURN n\n")
    with pytest.raises(InputError, match=r"q\.cypher: uses undeclared parameters"):
        load_library([tmp_path])
    _write(tmp_path, "q", head + "// param: p string required  x\nRETURN 1 AS one\n")
    with pytest.raises(InputError, match="declares unused parameters"):
        load_library([tmp_path])
    _write(tmp_path, "q", head.replace("name: q", "name: other") + "RETURN 1 AS one\n")
    with pytest.raises(InputError, match="must be lower-case-with-dashes and equal the file"):
        load_library([tmp_path])
    _write(tmp_path, "q", head + "// param: p wibble 1  x\nRETURN $p AS one\n")
    with pytest.raises(InputError, match="NAME TYPE DEFAULT DESCRIPTION"):
        load_library([tmp_path])
    (tmp_path / "q.cypher").unlink()
    _write(tmp_path, "user-interests", head.replace("name: q", "name: user-interests") + "RETURN 1")
    with pytest.raises(InputError, match="already defined"):
        load_library([tmp_path])
    with pytest.raises(InputError, match="does not exist"):
        load_library([tmp_path / "missing"])


def test_a_user_folder_adds_queries(tmp_path):
    _write(
        tmp_path,
        "mine",
        "// name: mine\n// purpose: mine.\n// param: n integer 3  how many\n"
        "// example: interestgraph query mine -p n 2\nUNWIND range(1, $n) AS i RETURN i\n",
    )
    lib = load_library([tmp_path])
    assert "mine" in lib and lib["mine"].bind({}) == {"n": 3}


def test_browser_guide_escapes_and_lists_every_query():
    lib = load_library()
    html = browser_guide(lib)
    assert html.startswith('<article class="guide">')
    for name in lib:
        assert f"<h3>{name}</h3>" in html
    assert "&lt;-[" in html and "<-[" not in html  # Cypher arrows are escaped
