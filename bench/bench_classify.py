"""Benchmark sentiment scoring: mentions per second at batch 1 and batch 32, and peak memory.

Run by hand:  .venv/bin/python bench/bench_classify.py [--data PATH] [--model bundled] [--int8]
Targets: >= 200 mentions/s at batch 32 and <= 1 GiB peak resident memory, on 2 CPU cores.
Texts are scored through the production path (tokenize, sort by length, batch) in chunks
of 256, as `app.py classify` does.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier import pipeline  # noqa: E402
from classifier.model import load_model  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "tweeteval" / "sentiment" / "test.jsonl"


def read_texts(path: Path, limit: int) -> list[str]:
    """The first `limit` texts of a JSONL file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(limit), fh, strict=False)]


def rate(model, texts: list[str], batch_size: int) -> float:
    """Mentions per second scoring `texts` in chunks, `batch_size` texts per forward pass."""
    model.batch_size = batch_size
    chunk = 1 if batch_size == 1 else pipeline.CHUNK
    started = time.perf_counter()
    for start in range(0, len(texts), chunk):
        model.score(texts[start : start + chunk])
    return len(texts) / (time.perf_counter() - started)


def peak_rss_mib() -> float:
    """Peak resident memory of this process, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Load the model, warm it up, then time batch 1 and batch 32."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--single", type=int, default=300, help="texts scored one at a time")
    parser.add_argument("--batched", type=int, default=3000, help="texts scored in batches of 32")
    parser.add_argument("--int8", action="store_true", help="torch dynamic int8 quantization")
    args = parser.parse_args()

    started = time.perf_counter()
    model = load_model(args.model, max_length=128, batch_size=32, int8=args.int8)
    print(f"model {model.name} loaded in {time.perf_counter() - started:.1f} s")
    texts = read_texts(args.data, max(args.single, args.batched))
    model.score(texts[:64])
    print(f"batch 1:  {rate(model, texts[: args.single], 1):7.1f} mentions/s ({args.single} texts)")
    print(f"batch 32: {rate(model, texts[: args.batched], 32):7.1f} mentions/s ({args.batched} texts)")
    print(f"peak memory: {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
