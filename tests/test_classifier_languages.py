"""Language routing: `[classifier.languages]` sends a language's mentions to another model."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

import settings as settings_mod
import store
from classifier.network import backbone_path
from tests.conftest import write_config


@pytest.fixture(scope="module")
def thai_model(tmp_path_factory):
    """A tiny, randomly initialised BERT saved as a local model folder; its head always says positive."""
    folder = tmp_path_factory.mktemp("thai-model")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=37, id2label={0: "negative", 1: "neutral", 2: "positive"},
                        label2id={"negative": 0, "neutral": 1, "positive": 2})  # fmt: skip
    network = BertForSequenceClassification(config)
    with torch.no_grad():
        network.classifier.weight.zero_()
        network.classifier.bias.copy_(torch.tensor([0.0, 0.0, 8.0]))
    network.save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(backbone_path())).save_pretrained(folder)
    return folder


@pytest.fixture
def routed(tmp_path, thai_model):
    """Settings that route Thai to the tiny model."""
    path = write_config(
        tmp_path, replace={"[classifier.languages]\n": f'[classifier.languages]\nth = "{thai_model}"\n'}
    )
    return settings_mod.load(path)


def test_config_routes_thai(routed, thai_model):
    """The table is read as language -> model."""
    assert routed.classifier.languages == {"th": str(thai_model)}


def test_classify_routes_by_language(routed, thai_model, runner_for):
    """Thai mentions go to the Thai model and are trusted; English stays bundled; other languages stay flagged."""
    db = store.connect(routed.database)
    rows = [("1", "พัสดุยังไม่ถึงเลย ช่วยด้วย", "th"), ("2", "ส่งของเร็วมาก", "th-TH"),
            ("3", "@ParceloHQ my parcel never arrived, I want a refund", "en"),
            ("4", "Mi paquete no ha llegado y nadie me responde", "es")]  # fmt: skip
    with db.atomic():
        store.upsert_mentions(db, [{"platform": "x", "external_id": key, "brand": "Parcelo", "text": text,
                                    "created_at": "2026-11-18T09:00:00Z", "language": lang}
                                   for key, text, lang in rows])  # fmt: skip
    result = runner_for(routed)(["classify"])
    assert result.exit_code == 0, result.output
    scored = {r["external_id"]: r for r in db.query("SELECT * FROM mentions")}
    for key in ("1", "2"):
        assert scored[key]["sentiment_model"].startswith(str(thai_model))
        assert scored[key]["sentiment"] == "positive" and scored[key]["sentiment_low_confidence"] == 0
        assert json.loads(scored[key]["sentiment_scores"])["positive"] > 0.99
    assert scored["3"]["sentiment_model"].startswith("bundled:") and scored["3"]["sentiment"] == "negative"
    assert scored["3"]["sentiment_low_confidence"] == 0
    assert (
        scored["4"]["sentiment_model"].startswith("bundled:") and scored["4"]["sentiment_low_confidence"] == 1
    )
    db.close()


@pytest.fixture
def runner_for():
    """A CLI runner bound to a given Settings' config file."""
    from click.testing import CliRunner

    from app import cli

    return lambda chosen: lambda args: CliRunner().invoke(cli, ["--config", chosen.config_path, *args])


@pytest.mark.parametrize("extra, message", [
    ({"[classifier.languages]\n": "[classifier.languages]\nth = 3\n"}, "'classifier.languages.th' expected str"),
    ({'runtime = "onnx"': 'runtime = "tpu"'}, "'classifier.runtime' expected one of onnx, torch"),
])  # fmt: skip
def test_bad_classifier_config(tmp_path, extra, message):
    """Mistakes in the new keys name the key."""
    with pytest.raises(settings_mod.ConfigError, match=message):
        settings_mod.load(write_config(tmp_path, replace=extra))
