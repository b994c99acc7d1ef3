"""Measure the configured sentiment model on a labeled JSONL file."""

from __future__ import annotations

from pathlib import Path

from classifier import metrics
from classifier.data import read_labeled
from classifier.model import get_model
from classifier.network import LABELS
from classifier.versions import configured_version


def evaluate_file(path: Path, settings) -> dict:
    """Metrics of the active model version on labeled data, scored exactly as production scores mentions."""
    labeled = read_labeled(path)
    model = get_model(settings, configured_version(settings))
    predicted = [LABELS.index(s.label) for s in model.score(labeled.texts)]
    return {"model": model.name, "data": str(path), **metrics.report(labeled.labels, predicted)}


def format_report(result: dict) -> str:
    """A readable summary with per-class recall and the confusion matrix."""
    width = max(len(label) for label in LABELS) + 2
    lines = [
        f"Model: {result['model']}",
        f"Data: {result['data']} ({result['n']} texts)",
        f"Macro-recall: {result['macro_recall']:.2f}",
        f"Accuracy:     {result['accuracy']:.2f}",
        f"Macro-F1:     {result['macro_f1']:.2f}",
        "Recall per class: " + ", ".join(f"{k} {v:.2f}" for k, v in result["per_class_recall"].items()),
        "",
        "Confusion (rows: true label, columns: predicted):",
        " " * width + "".join(f"{label:>{width}}" for label in LABELS),
    ]
    for label, row in result["confusion"].items():
        lines.append(f"{label:<{width}}" + "".join(f"{row[c]:>{width}}" for c in LABELS))
    return "\n".join(lines)
