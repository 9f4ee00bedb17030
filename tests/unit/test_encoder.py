"""The bundled text model, loaded offline."""

from __future__ import annotations

import numpy as np
import pytest

from interestgraph.embedding import DEFAULT_MODEL, TextEncoder, text_hash
from interestgraph.errors import ConfigError


@pytest.fixture(scope="module")
def encoder():
    return TextEncoder(device="cpu")


def test_default_model_loads_offline_and_gives_unit_vectors(encoder):
    v = encoder.encode(["wireless headphones", "bluetooth earbuds", "a cast iron skillet"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]  # related products are closer
    assert encoder.model_name == DEFAULT_MODEL
    assert encoder.encode([]).shape == (0, 384)


def test_hash_depends_on_text_and_model():
    assert text_hash("m", "a") == text_hash("m", "a")
    assert text_hash("m", "a") != text_hash("m", "b")
    assert text_hash("m", "a") != text_hash("other", "a")


def test_unloadable_model_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot load text model"):
        TextEncoder(str(tmp_path / "missing-model-folder")).encode(["x"])
