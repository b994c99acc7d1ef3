"""Read labeled JSONL for training and evaluation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from classifier.network import LABELS


class DataError(Exception):
    """A labeled data file is missing or has a bad line."""


@dataclass(frozen=True)
class Labeled:
    """Texts and their label indexes (0 negative, 1 neutral, 2 positive)."""

    texts: list[str]
    labels: list[int]


def label_index(value: object) -> int:
    """Map negative/neutral/positive or 0/1/2 to a label index."""
    if isinstance(value, bool):
        raise ValueError(f"bad label {value!r}")
    if isinstance(value, int) and 0 <= value < len(LABELS):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit() and int(text) < len(LABELS):
            return int(text)
        if text in LABELS:
            return LABELS.index(text)
    raise ValueError(f"bad label {value!r} (expected negative/neutral/positive or 0/1/2)")


def read_labeled(path: str | Path) -> Labeled:
    """Read a JSONL file of {"text", "label"} lines; raise DataError naming file:line."""
    path = Path(path)
    texts, labels = [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, label = row["text"], label_index(row["label"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}:{number}: {_reason(exc)}") from None
        texts.append(str(text))
        labels.append(label)
    if not texts:
        raise DataError(f"{path}: no labeled lines")
    return Labeled(texts, labels)


def _reason(exc: Exception) -> str:
    """A short reason for a bad line."""
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg})"
    return str(exc)
