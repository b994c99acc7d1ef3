"""The sentiment model: the bundled adapter loads offline and reads clear examples right."""

from __future__ import annotations

import pytest

from classifier import model as model_mod
from classifier.model import ModelUnavailable, canonical_label, label_columns

CLEAR = [
    ("I absolutely hate this, worst customer service I have ever had.", "negative"),
    ("My parcel is lost and nobody answers. Furious.", "negative"),
    ("The store opens at 9am on Monday.", "neutral"),
    ("The new phone comes in black and silver.", "neutral"),
    ("I love my new phone, the camera is amazing!", "positive"),
    ("Thank you so much, fantastic service today!", "positive"),
]


@pytest.fixture(scope="module")
def bundled():
    """The bundled model, loaded with the Hugging Face hub switched off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        yield model_mod.load_model(model_mod.BUNDLED)


def test_bundled_labels_clear_examples(bundled):
    """Clear negative, neutral and positive texts get their labels, with probabilities summing to 1."""
    results = bundled.score([text for text, _ in CLEAR])
    assert [r.label for r in results] == [label for _, label in CLEAR]
    for result in results:
        assert set(result.scores) == {"negative", "neutral", "positive"}
        assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-3)


def test_bundled_names_its_version(bundled):
    """Every score carries the model name and the adapter's hash."""
    result = bundled.score(["hello"])[0]
    assert result.model.startswith("bundled:earshot-minilm-lora@")
    assert len(result.model.rsplit("@", 1)[1]) == 10


def test_int8_labels_clear_examples(bundled):
    """The int8 variant gives the same labels on clear examples and says it is int8."""
    int8 = model_mod.load_model(model_mod.BUNDLED, int8=True)
    results = int8.score([text for text, _ in CLEAR])
    assert [r.label for r in results] == [label for _, label in CLEAR]
    assert results[0].model == bundled.name + "+int8"


def test_model_is_loaded_once(bundled):
    """Asking again returns the same cached model."""
    assert model_mod.load_model(model_mod.BUNDLED) is bundled


def test_batching_keeps_order(bundled):
    """Length-sorted batches give the same answers as scoring one text at a time."""
    texts = [text for text, _ in CLEAR] + ["ok", "a much longer text " * 20]
    together = [r.scores for r in bundled.score(texts)]
    alone = [bundled.score([t])[0].scores for t in texts]
    for a, b in zip(together, alone, strict=True):
        assert a == pytest.approx(b, abs=2e-3)


@pytest.mark.parametrize(
    "text, language, low",
    [
        ("My parcel never arrived", None, False),
        ("My parcel never arrived", "en", False),
        ("Mi paquete no ha llegado y nadie me responde", None, True),
        ("พัสดุยังไม่ถึงเลย", None, True),
        ("Das Paket ist nicht angekommen", "de", True),
        ("ok", "und", False),
    ],
)
def test_non_english_is_low_confidence(bundled, text, language, low):
    """Text the English model cannot read is flagged for the console."""
    assert bundled.score([text], [language])[0].low_confidence is low


@pytest.mark.parametrize(
    "name, expected",
    [
        ("LABEL_0", "negative"),
        ("LABEL_1", "neutral"),
        ("label_2", "positive"),
        ("negative", "negative"),
        ("NEG", "negative"),
        ("Neutral", "neutral"),
        ("POS", "positive"),
        ("POSITIVE", "positive"),
        ("1 star", "negative"),
        ("3 stars", "neutral"),
        ("5 stars", "positive"),
        ("joy", None),
    ],
)
def test_canonical_label(name, expected):
    """Label names from other models map onto Earshot's three."""
    assert canonical_label(name) == expected


def test_label_columns_two_class_model():
    """A positive/negative model maps without a neutral column."""
    assert label_columns({0: "NEGATIVE", 1: "POSITIVE"}) == ["negative", "positive"]


def test_label_columns_refuses_unknown_labels():
    """Emotion labels cannot be read as sentiment."""
    with pytest.raises(ModelUnavailable, match="cannot map"):
        label_columns({0: "anger", 1: "joy", 2: "sadness"})


def test_unknown_hub_model_offline():
    """A model id that is not cached locally fails with a message that suggests the bundled model."""
    with pytest.raises(ModelUnavailable, match="bundled"):
        model_mod.load_model("earshot-tests/no-such-model")


def test_missing_adapter(tmp_path):
    """An empty adapter folder is reported, not a stack trace."""
    with pytest.raises(ModelUnavailable, match="no Earshot adapter"):
        model_mod._load_bundled(128, 32, tmp_path)


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory, bundled):
    """The shipped fast path: the bundled adapter as an int8 ONNX graph, exported into a fresh folder."""
    cache = tmp_path_factory.mktemp("onnx")
    return model_mod._load_bundled(128, 32, model_mod.BUNDLED_DIR, True, "onnx", cache), cache


def test_onnx_int8_reads_clear_examples_like_fp32(onnx_model, bundled):
    """The int8 graph gives the fp32 model's labels, with probabilities close to fp32's."""
    model, _ = onnx_model
    assert model.name == bundled.name + "+onnx-int8"
    texts = [text for text, _ in CLEAR]
    fast, full = model.score(texts), bundled.score(texts)
    assert [r.label for r in fast] == [label for _, label in CLEAR]
    for a, b in zip(fast, full, strict=True):
        assert a.scores == pytest.approx(b.scores, abs=0.1)


def test_onnx_graph_is_built_once(onnx_model):
    """The graph is cached under the adapter's digest and reused, not rebuilt."""
    from classifier import fast

    _, cache = onnx_model
    (graph,) = cache.glob("*.int8.onnx")
    assert graph.name == fast.graph_name(model_mod.BUNDLED_DIR)
    before = graph.stat().st_mtime_ns
    assert fast.cached_graph(model_mod.BUNDLED_DIR, cache) == graph and graph.stat().st_mtime_ns == before
    assert 10_000_000 < graph.stat().st_size < 40_000_000  # int8: about a quarter of the fp32 graph


def test_onnx_falls_back_to_torch(tmp_path, caplog):
    """When the graph cannot be built (here: its folder is a file), scoring goes on with torch int8."""
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    model = model_mod._load_bundled(128, 32, model_mod.BUNDLED_DIR, True, "onnx", blocked / "onnx")
    assert model.name.endswith("+int8") and not model.name.endswith("onnx-int8")
    assert "scoring with torch instead of ONNX Runtime" in caplog.text
    assert model.score(["I love it"])[0].label == "positive"
