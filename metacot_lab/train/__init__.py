"""Training entry points: supervised fine-tuning (full or LoRA) on search traces."""

from __future__ import annotations

from .sft import FULL_LR, LORA_LR, LoraSettings, SFTResult, SFTRunConfig, build_trainer, train_sft

__all__ = [
    "FULL_LR",
    "LORA_LR",
    "LoraSettings",
    "SFTResult",
    "SFTRunConfig",
    "build_trainer",
    "train_sft",
]
