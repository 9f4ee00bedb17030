import pytest

from interestgraph.errors import QueryError
from interestgraph.graphstore import schema


def test_every_keyed_label_gets_one_named_unique_constraint():
    cs = schema.constraints()
    assert {(c.label.value, c.key) for c in cs} >= {
        ("User", "user_id"),
        ("Item", "item_id"),
        ("Topic", "topic_id"),
    }
    assert len({c.name for c in cs}) == len(cs)
    for c in cs:
        assert "IF NOT EXISTS" in c.cypher()
        assert f"REQUIRE n.{c.key} IS UNIQUE" in c.cypher()


def test_graph_model_relationship_types_are_allowed():
    for name in ("PURCHASED", "FOLLOWS", "HAS_TOPIC", "INTERESTED_IN", "CO_INTEREST", "SIMILAR_TO"):
        assert schema.rel_type(name) == name


@pytest.mark.parametrize(
    "evil", ["User) DETACH DELETE n //", "user", "Item`", "", "SIMILAR_TO]->() DELETE r //"]
)
def test_names_outside_the_allow_list_are_rejected(evil):
    with pytest.raises(QueryError, match="not in the schema"):
        schema.label(evil)
    with pytest.raises(QueryError, match="not in the schema"):
        schema.rel_type(evil)
