"""The fast scoring path: the adapted network exported once to an int8 ONNX graph, run by ONNX Runtime.

The graph is built on this machine from the bundled (or a promoted) adapter the first
time it is needed, offline, and cached next to Earshot's data; scores stay those of the
same network, with its linear layers quantized to int8 per output channel.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path

log = logging.getLogger(__name__)

OPSET = 17
# Bumped whenever the export changes, so graphs cached by an older Earshot are rebuilt.
EXPORT_REVISION = 2


class OnnxUnavailable(Exception):
    """ONNX Runtime is not installed, or the graph could not be built or opened."""


def graph_name(folder: Path) -> str:
    """File name of the cached graph: the adapter's digest, so a new adapter gets a new graph."""
    digest = hashlib.sha256((folder / "adapter.safetensors").read_bytes()).hexdigest()[:16]
    return f"{digest}.r{EXPORT_REVISION}.int8.onnx"


def _trace(network, path: Path) -> None:
    """Write the fp32 graph of a torch network, with batch size and text length left free.

    Attention is traced in its plain matrix form: the fused kernel's mask handling
    traces into dozens of small shape operators per layer, which cost a fifth of
    the time of a one-text batch in ONNX Runtime.
    """
    import torch

    network.encoder.set_attn_implementation("eager")

    ids = torch.ones((2, 8), dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    with warnings.catch_warnings():
        # The tracer notes Python-side shape checks it cannot record; the tests check the graph's scores.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            network, (ids, torch.ones_like(ids)), str(path), input_names=list(axes),
            output_names=["logits"], dynamic_axes={**axes, "logits": {0: "batch"}},
            opset_version=OPSET, dynamo=False,
        )  # fmt: skip


def export_int8(folder: Path, target: Path) -> Path:
    """Export the merged network to ONNX, quantize its weights to int8 and write it to `target`."""
    from classifier.network import load_adapted

    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise OnnxUnavailable("onnxruntime is not installed: pip install -r requirements.txt") from None
    plain = target.with_suffix(f".fp32.{os.getpid()}")
    partial = target.with_suffix(f".part.{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _trace(load_adapted(folder), plain)
        quantize_dynamic(str(plain), str(partial), weight_type=QuantType.QInt8, per_channel=True)
        partial.replace(target)  # atomic: a second process never reads half a graph
    except (RuntimeError, ValueError, OSError) as exc:
        raise OnnxUnavailable(f"cannot build the ONNX graph for {folder}: {exc}") from None
    finally:
        for leftover in (plain, partial):
            if leftover.exists():
                leftover.unlink()
    return target


def cached_graph(folder: Path, cache_dir: Path) -> Path:
    """The int8 graph of this adapter, exported on first use."""
    target = cache_dir / graph_name(folder)
    if not target.is_file():
        log.info("building the int8 ONNX graph of %s in %s (once)", folder, target)
        export_int8(folder, target)
    return target


class OnnxNetwork:
    """Calls an ONNX Runtime session the way SentimentModel calls a torch network."""

    def __init__(self, path: Path, threads: int = 0):
        try:
            import onnxruntime as ort
        except ImportError:
            raise OnnxUnavailable("onnxruntime is not installed: pip install -r requirements.txt") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # ONNX Runtime's default: worker threads spin briefly between operators before they
        # park. Turning it off costs about 15% at batch 1 on two cores; idle, the threads sleep.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1")
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
            raise OnnxUnavailable(f"cannot open the ONNX graph {path}: {exc}") from None

    def __call__(self, input_ids, attention_mask):
        """Logits, as a torch tensor, for one padded batch."""
        import torch

        feed = {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
        return torch.from_numpy(self.session.run(None, feed)[0])
