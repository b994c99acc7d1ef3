"""Benchmark sentiment scoring: Earshot's shipped path beside a plain transformers pipeline and VADER.

Run by hand:  .venv/bin/python bench/bench_classify.py [--data PATH] [--runs 3] [--threads 2]
Targets: >= 400 mentions/s at batch 32, >= 200/s at batch 1, <= 1 GiB peak, on 2 CPU cores.
Each figure is the median of --runs timed runs. The shipped path is what `classify` uses
with the shipped config.toml (an int8 ONNX graph by default): tokenize, sort by length,
batch, in chunks of 256; the torch int8 fallback is timed the same way. The transformers
pipeline runs the same adapted MiniLM in fp32 through `pipeline("feature-extraction")`
plus Earshot's mean pooling and head. VADER is the rule-based baseline (a bench
dependency only). Peak memory is read after the shipped path, before the others load;
run once beforehand so the ONNX graph is already built. The load average is printed
because the figures mean little on a machine that other work shares.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier import pipeline  # noqa: E402
from classifier.model import BUNDLED, load_model  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "tweeteval" / "sentiment" / "test.jsonl"


def read_texts(path: Path, limit: int) -> list[str]:
    """The first `limit` texts of a JSONL file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(limit), fh, strict=False)]


def timed(score: Callable[[list[str]], object], texts: list[str], chunk: int) -> tuple[float, float]:
    """(mentions per wall second, mentions per CPU second) scoring `texts` `chunk` at a time."""
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), chunk):
        score(texts[start : start + chunk])
    return len(texts) / (time.perf_counter() - wall), len(texts) / (time.process_time() - cpu)


def median_rates(score, texts: list[str], chunk: int, runs: int) -> tuple[float, float]:
    """Median wall and CPU rates over several runs."""
    results = [timed(score, texts, chunk) for _ in range(runs)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


def shipped(threads: int):
    """Earshot's scorer as `classify` runs it with the shipped config; returns (name, batch setter, score)."""
    import settings as settings_mod
    from classifier.model import models_dir

    config = settings_mod.load().classifier
    cache = models_dir(settings_mod.load()) / "onnx"
    model = load_model(BUNDLED, config.max_length, 32, config.int8, config.runtime, cache)

    def set_batch(size: int) -> None:
        model.batch_size = size

    return model.name, set_batch, model.score


def torch_int8(threads: int):
    """The same scorer on torch's dynamic int8 kernels: the fallback, and the default before ONNX."""
    model = load_model(BUNDLED, 128, 32, int8=True, runtime="torch")

    def set_batch(size: int) -> None:
        model.batch_size = size

    return model.name + " (torch fallback)", set_batch, model.score


def transformers_pipeline(threads: int):
    """The same adapted network through a plain transformers feature-extraction pipeline, fp32."""
    import torch
    from transformers import AutoTokenizer
    from transformers import pipeline as hf_pipeline

    from classifier.model import BUNDLED_DIR
    from classifier.network import backbone_path, load_adapted

    network = load_adapted(BUNDLED_DIR)
    tokenizer = AutoTokenizer.from_pretrained(str(backbone_path()))
    extract = hf_pipeline("feature-extraction", model=network.encoder, tokenizer=tokenizer, framework="pt")
    state = {"batch": 32}

    def set_batch(size: int) -> None:
        state["batch"] = size

    @torch.inference_mode()
    def score(texts: list[str]) -> list[int]:
        features = extract(
            texts, batch_size=state["batch"], return_tensors=True, truncation=True, max_length=128
        )
        pooled = torch.stack([f[0].mean(0) for f in features])
        return network.head(pooled).argmax(-1).tolist()

    return "transformers pipeline (fp32, same network)", set_batch, score


def vader(threads: int):
    """VADER's rule-based scorer, one text at a time whatever the batch."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return "VADER 3.3.2", lambda size: None, lambda texts: [analyzer.polarity_scores(t) for t in texts]


def peak_rss_mib() -> float:
    """Peak resident memory of this process, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(build, texts: list[str], args) -> dict:
    """Load one scorer, warm it up, then time batch 1 and batch 32."""
    started = time.perf_counter()
    name, set_batch, score = build(args.threads)
    loaded = time.perf_counter() - started
    score(texts[:64])
    set_batch(1)
    single = median_rates(score, texts[: args.single], 1, args.runs)
    set_batch(32)
    batched = median_rates(score, texts[: args.batched], pipeline.CHUNK, args.runs)
    return {"name": name, "load_s": loaded, "b1": single, "b32": batched}


def main() -> None:
    """Time the three scorers and print their rates side by side, with ratios to the shipped path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--single", type=int, default=200, help="texts scored one at a time")
    parser.add_argument("--batched", type=int, default=1024, help="texts scored in batches of 32")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per figure (median reported)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    texts = read_texts(args.data, max(args.single, args.batched, 64))
    results = [measure(shipped, texts, args)]
    peak = peak_rss_mib()
    results += [measure(build, texts, args) for build in (torch_int8, transformers_pipeline, vader)]
    base = results[0]
    print(f"{len(texts)} texts from {args.data.name}; medians of {args.runs} runs; {args.threads} threads")
    print(f"{'scorer':<58} {'batch 1/s':>10} {'batch 32/s':>11} {'ratio b1':>9} {'ratio b32':>10}")
    for r in results:
        print(
            f"{r['name']:<58} {r['b1'][0]:>10.1f} {r['b32'][0]:>11.1f} "
            f"{base['b1'][0] / r['b1'][0]:>8.2f}x {base['b32'][0] / r['b32'][0]:>9.2f}x"
        )
    print("(ratio: how many times faster the shipped path is than that scorer)")
    print(f"shipped path per CPU second: batch 1 {base['b1'][1]:.1f}/s, batch 32 {base['b32'][1]:.1f}/s")
    print(f"shipped path loaded in {base['load_s']:.1f} s; peak memory after it {peak:.0f} MiB")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
