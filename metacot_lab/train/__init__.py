"""Training entry points: supervised fine-tuning (full or LoRA) on search traces, and RL
with verifiable rewards (GRPO) from a supervised checkpoint."""

from __future__ import annotations

from .rl import RL_LR, RLResult, RLRunConfig, build_grpo_trainer, train_grpo
from .sft import FULL_LR, LORA_LR, LoraSettings, SFTResult, SFTRunConfig, build_trainer, train_sft

__all__ = [
    "FULL_LR",
    "LORA_LR",
    "RL_LR",
    "LoraSettings",
    "RLResult",
    "RLRunConfig",
    "SFTResult",
    "SFTRunConfig",
    "build_grpo_trainer",
    "build_trainer",
    "train_grpo",
    "train_sft",
]
