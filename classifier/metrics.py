"""Classification metrics for the three sentiment labels, as percentages."""

from __future__ import annotations

from classifier.network import LABELS


def confusion(gold: list[int], pred: list[int], size: int = len(LABELS)) -> list[list[int]]:
    """Confusion matrix: rows are the true label, columns the predicted label."""
    matrix = [[0] * size for _ in range(size)]
    for g, p in zip(gold, pred, strict=True):
        matrix[g][p] += 1
    return matrix


def _ratio(part: int, whole: int) -> float:
    """part / whole as a percentage, 0 when whole is 0."""
    return 100.0 * part / whole if whole else 0.0


def report(gold: list[int], pred: list[int]) -> dict:
    """Macro-recall, accuracy, macro-F1, per-class recall and the confusion matrix."""
    matrix = confusion(gold, pred)
    size = len(matrix)
    recall = [_ratio(matrix[i][i], sum(matrix[i])) for i in range(size)]
    precision = [_ratio(matrix[i][i], sum(row[i] for row in matrix)) for i in range(size)]
    f1 = [2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(precision, recall, strict=True)]
    return {
        "n": len(gold),
        "macro_recall": round(sum(recall) / size, 2),
        "accuracy": round(_ratio(sum(matrix[i][i] for i in range(size)), len(gold)), 2),
        "macro_f1": round(sum(f1) / size, 2),
        "per_class_recall": {LABELS[i]: round(recall[i], 2) for i in range(size)},
        "confusion": {LABELS[i]: dict(zip(LABELS, matrix[i], strict=True)) for i in range(size)},
    }
