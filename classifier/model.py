"""The sentiment model: loaded lazily, once per process, and run in length-sorted batches."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from classifier.language import is_english
from classifier.network import (
    ADAPTER_WEIGHTS,
    LABELS,
    ModelUnavailable,
    backbone_path,
    pad,
    read_adapter_config,
)

BUNDLED = "bundled"
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
# Where int8 ONNX graphs go when no data folder is given (the console passes its own).
DEFAULT_CACHE = Path(__file__).resolve().parent.parent / "instance" / "models" / "onnx"

log = logging.getLogger(__name__)

__all__ = ["BUNDLED", "ModelUnavailable", "Sentiment", "SentimentModel", "get_model", "load_model"]


@dataclass(frozen=True)
class Sentiment:
    """One text's sentiment: the label, the three probabilities and the model that said so."""

    label: str
    scores: dict[str, float]
    model: str
    low_confidence: bool = False


def canonical_label(name: str) -> str | None:
    """Map a model's label name (negative, NEG, LABEL_0, 1 star...) to Earshot's, or None."""
    text = str(name).strip().lower()
    if re.fullmatch(r"(label_)?[0-2]", text):
        return LABELS[int(text[-1])]
    stars = re.fullmatch(r"([1-5]) stars?", text)
    if stars:
        return LABELS[0] if int(stars[1]) <= 2 else LABELS[1] if stars[1] == "3" else LABELS[2]
    for label in LABELS:
        if text.startswith(label[:3]):
            return label
    return None


def label_columns(id2label: dict) -> list[str]:
    """Earshot's label for each output column of a model, from its config's id2label."""
    columns = [canonical_label(id2label[key]) for key in sorted(id2label, key=int)]
    if None in columns or not {"negative", "positive"} <= set(columns):
        raise ModelUnavailable(
            f"cannot map the model's labels {list(id2label.values())} to negative/neutral/positive"
        )
    return columns


class SentimentModel:
    """A tokenizer and network that turn texts into Sentiment records."""

    def __init__(self, network, tokenizer, columns: list[str], name: str, max_length: int, batch_size: int):
        self.network = network
        self.tokenizer = tokenizer
        self.columns = columns
        self.name = name
        self.max_length = max_length
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Negative/neutral/positive probabilities per text, batching texts of similar length."""
        if not texts:
            return []
        with self._lock:  # one batch at a time per process; the fast tokenizer is not re-entrant
            ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
            order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
            result: list[dict[str, float]] = [{}] * len(ids)
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                for i, row in zip(chunk, self._forward([ids[i] for i in chunk]), strict=True):
                    result[i] = row
        return result

    def _forward(self, rows: list[list[int]]) -> list[dict[str, float]]:
        """Probabilities for one batch of token id lists."""
        import torch

        input_ids, mask = pad(rows)
        with torch.inference_mode():
            logits = self.network(input_ids=input_ids, attention_mask=mask)
        probs = torch.softmax(getattr(logits, "logits", logits).float(), dim=-1).tolist()
        return [self._fold(row) for row in probs]

    def _fold(self, row: list[float]) -> dict[str, float]:
        """Sum output columns into Earshot's three labels (a 5-star model has five columns)."""
        scores = dict.fromkeys(LABELS, 0.0)
        for label, p in zip(self.columns, row, strict=True):
            scores[label] += p
        return {label: round(p, 4) for label, p in scores.items()}

    def score(self, texts: Sequence[str], languages: Sequence[str | None] | None = None) -> list[Sentiment]:
        """Sentiment per text; non-English text is flagged low-confidence."""
        languages = languages or [None] * len(texts)
        return [
            Sentiment(max(scores, key=scores.get), scores, self.name, not is_english(text, language))
            for text, language, scores in zip(texts, languages, self.probabilities(texts), strict=True)
        ]


def bundled_version(folder: Path = BUNDLED_DIR, label: str = BUNDLED) -> str:
    """'<label>:<adapter name>@<first 10 hex of the adapter's sha256>'; label is the version."""
    config = read_adapter_config(folder)
    digest = hashlib.sha256((folder / ADAPTER_WEIGHTS).read_bytes()).hexdigest()[:10]
    return f"{label}:{config['name']}@{digest}"


def quantized(network):
    """The network with its linear layers in dynamic int8 (int8 weights, activations per batch)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        # torch 2.13 (pinned) warns that these quantized kernels will move to torchao one day.
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*", category=UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.ao.quantization.quantize_dynamic(network, {torch.nn.Linear}, dtype=torch.qint8)


def _onnx_network(folder: Path, cache_dir: Path):
    """The adapter's int8 ONNX graph in a session, or None (logged) when ONNX Runtime cannot run it."""
    from classifier import fast

    try:
        return fast.OnnxNetwork(fast.cached_graph(folder, cache_dir))
    except fast.OnnxUnavailable as exc:
        log.warning("scoring with torch instead of ONNX Runtime: %s", exc)
        return None


def _load_bundled(max_length: int, batch_size: int, folder: Path, int8: bool = False,
                  runtime: str = "torch", cache_dir: Path | None = None, label: str = BUNDLED) -> SentimentModel:  # fmt: skip
    """The packaged MiniLM plus an Earshot adapter, LoRA merged in; ONNX int8 when asked and possible."""
    from transformers import AutoTokenizer

    from classifier.network import load_adapted

    config = read_adapter_config(folder)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(backbone_path()))
        network = _onnx_network(folder, cache_dir or DEFAULT_CACHE) if runtime == "onnx" else None
        suffix = "+onnx-int8" if network is not None else "+int8" if int8 else ""
        if network is None:
            network = quantized(load_adapted(folder)) if int8 else load_adapted(folder)
    except OSError as exc:
        raise ModelUnavailable(f"cannot load the bundled model: {exc}") from None
    name = bundled_version(folder, label) + suffix
    return SentimentModel(network, tokenizer, config["labels"], name, max_length, batch_size)


def _load_hub(name: str, max_length: int, batch_size: int) -> SentimentModel:
    """Any Hugging Face text-classification model, by id or local path."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        network = AutoModelForSequenceClassification.from_pretrained(name).eval()
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(
            f"cannot load sentiment model {name!r}: {exc}. Without internet access, set "
            '[classifier] model = "bundled" or a local folder.'
        ) from None
    columns = label_columns(network.config.id2label)
    revision = getattr(network.config, "_commit_hash", None) or "local"
    return SentimentModel(network, tokenizer, columns, f"{name}@{revision[:10]}", max_length, batch_size)


_CACHE: dict[tuple, SentimentModel] = {}
_CACHE_LOCK = threading.Lock()


def load_model(
    name: str = BUNDLED, max_length: int = 128, batch_size: int = 32, int8: bool = False,
    runtime: str = "torch", cache_dir: Path | None = None, version: tuple[str, Path] | None = None,
) -> SentimentModel:  # fmt: skip
    """The named model, built on first use and then shared by the whole process.

    `version` is (label, adapter folder) of a model version; the bundled adapter by default.
    """
    label, folder = version or (BUNDLED, BUNDLED_DIR)
    key = (name, max_length, batch_size, int8, runtime, label, str(folder))
    with _CACHE_LOCK:
        if key not in _CACHE:
            if name == BUNDLED:
                _CACHE[key] = _load_bundled(max_length, batch_size, folder, int8, runtime, cache_dir, label)
            else:
                model = _load_hub(name, max_length, batch_size)
                if int8:
                    model.network, model.name = quantized(model.network), model.name + "+int8"
                _CACHE[key] = model
        return _CACHE[key]


def models_dir(settings) -> Path:
    """Earshot's model files (versions, ONNX graphs): `models/` next to the database file."""
    return settings.db_path.parent / "models"


def get_model(settings, version: tuple[str, Path] | None = None) -> SentimentModel:
    """The model configured in `[classifier]`, as the given version of the bundled adapter."""
    config = settings.classifier
    return load_model(
        config.model, config.max_length, config.batch_size, config.int8,
        config.runtime if config.int8 else "torch", models_dir(settings) / "onnx", version,
    )  # fmt: skip
