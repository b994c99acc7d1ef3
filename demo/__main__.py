"""`python -m demo > demo.jsonl`: the demo records in Earshot's import format."""

from __future__ import annotations

import json
import sys

import clock

from .records import demo_records


def main() -> None:
    """Write the demo records to stdout as JSONL."""
    for record in demo_records(clock.now()):
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
