from pathlib import Path

import pytest

from interestgraph.config import DEFAULT_NEO4J_VERSION, Settings
from interestgraph.errors import ConfigError


def test_defaults_use_the_managed_local_server():
    s = Settings.from_env({})
    assert s.managed
    assert s.local_uri == "bolt://127.0.0.1:7687"
    assert s.neo4j_version == DEFAULT_NEO4J_VERSION
    assert s.home == Path(".interestgraph")


def test_environment_is_parsed_and_typed():
    s = Settings.from_env(
        {
            "NEO4J_URI": "neo4j+s://abc.databases.neo4j.io",
            "NEO4J_USER": "analyst",
            "NEO4J_PASSWORD": "pw",
            "NEO4J_DATABASE": "shop",
            "INTERESTGRAPH_BOLT_PORT": "17687",
            "INTERESTGRAPH_BATCH_SIZE": "250",
            "INTERESTGRAPH_HOME": "/tmp/ighome",
        }
    )
    assert not s.managed
    assert (s.neo4j_user, s.neo4j_database, s.bolt_port, s.batch_size) == (
        "analyst",
        "shop",
        17687,
        250,
    )
    assert s.home == Path("/tmp/ighome")


@pytest.mark.parametrize(("word", "on"), [("off", False), ("OFF", False), ("0", False),
                                          ("on", True), ("true", True)])  # fmt: skip
def test_gds_switch(word, on):
    assert Settings.from_env({}).gds is True  # on by default
    assert Settings.from_env({"INTERESTGRAPH_GDS": word}).gds is on


def test_password_is_not_in_repr():
    s = Settings.from_env({"NEO4J_URI": "bolt://h:7687", "NEO4J_PASSWORD": "hunter2"})
    assert "hunter2" not in repr(s)


def test_overrides_win_and_none_is_ignored():
    s = Settings.from_env({"INTERESTGRAPH_BOLT_PORT": "1000"}, bolt_port=2000, heap=None)
    assert s.bolt_port == 2000
    assert s.heap == "2g"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"NEO4J_URI": "http://localhost:7474", "NEO4J_PASSWORD": "x"}, "not a Neo4j URI"),
        ({"NEO4J_URI": "bolt://localhost:7687"}, "NEO4J_PASSWORD"),
        ({"INTERESTGRAPH_BOLT_PORT": "seven"}, "INTERESTGRAPH_BOLT_PORT"),
        ({"INTERESTGRAPH_BOLT_PORT": "70000"}, "1-65535"),
        ({"INTERESTGRAPH_HEAP": "lots"}, "512m or 2g"),
        ({"INTERESTGRAPH_NEO4J_VERSION": "4.4.30"}, "5.26.x"),
        ({"INTERESTGRAPH_BATCH_SIZE": "0"}, "at least 1"),
        ({"INTERESTGRAPH_BOLT_PORT": "7474"}, "must differ"),
        ({"INTERESTGRAPH_GDS": "maybe"}, "INTERESTGRAPH_GDS='maybe': use on or off"),
        ({"INTERESTGRAPH_GDS_VERSION": "latest"}, "INTERESTGRAPH_GDS_VERSION"),
    ],
)
def test_invalid_settings_say_what_to_fix(env, needle):
    with pytest.raises(ConfigError, match=needle):
        Settings.from_env(env)
