"""Supervised fine-tuning on prompt/completion traces with ``trl``'s ``SFTTrainer``.

The loss is on the completion only (the trace a model must learn to write), never on the
prompt. Full fine-tuning by default; LoRA through ``peft`` with ``lora=LoraSettings(...)``.
The same call runs on a CPU, on a GPU when one is present, and under ``accelerate launch``
on several (the trainer places the model; nothing here is device-specific).

Equal-compute comparisons need one budget for every run: give ``max_steps``, ``max_tokens``
(converted to steps from the prepared dataset's mean sequence length) or ``max_seconds`` (a
callback stops training at that wall time); :class:`SFTResult` says which budget was used.

Packing (``packing="whole"``, see :mod:`metacot_lab.train.packing`) fills rows of
``max_length`` tokens with whole examples: about twice the tokens per second of padded
batches on a CPU, with the same completion-only labels. Keep ``max_length`` a few times the
mean example length so rows hold several examples.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from datasets import Dataset
from datasets.utils import logging as datasets_logging
from peft import LoraConfig
from transformers import PreTrainedTokenizerBase, PrinterCallback, TrainerCallback
from trl import SFTConfig, SFTTrainer

from ..config import MAX_SEED, get_device
from ..models import count_parameters
from ..validation import check_choice, check_float, check_int
from .packing import pack_whole_examples

UNSAVED_DIR = os.path.join(tempfile.gettempdir(), "metacot-sft-unsaved")
"""The trainer's output_dir when a run saves nothing (no checkpoint is written there)."""

FULL_LR = 1e-3
"""Default learning rate for full fine-tuning: tiny from-scratch models want ~1e-3 (trl's
default 2e-5 is meant for billion-parameter models and barely moves a 1M-parameter one)."""

LORA_LR = 2e-3
"""Default learning rate for LoRA: the adapters start at zero and hold few parameters, so they
take a rate a few times higher than full fine-tuning (as in the LoRA paper's GPT-2 runs)."""

LORA_TARGETS: tuple[str, ...] = (
    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"
)
"""Every linear layer of a Llama block: at tiny sizes adapting all of them is what works."""


@dataclass(frozen=True)
class LoraSettings:
    """LoRA adapters: ``W + (alpha / r) * B @ A`` with ``A``, ``B`` of rank ``r``."""

    r: int = 8  # rank of the update; 8 is plenty for a 128-256 wide model
    alpha: int = 16  # scale alpha / r = 2, the common choice
    target_modules: tuple[str, ...] = LORA_TARGETS
    dropout: float = 0.0  # short runs on plenty of traces do not overfit

    def to_peft(self) -> LoraConfig:
        """The ``peft`` :class:`LoraConfig` for a causal LM."""
        check_int("lora.r", self.r, 1, 4096)
        check_int("lora.alpha", self.alpha, 1, 1_000_000)
        check_float("lora.dropout", self.dropout, 0.0, 0.9)
        if not self.target_modules or not all(isinstance(m, str) for m in self.target_modules):
            raise ValueError(
                f"lora.target_modules must be module names such as {list(LORA_TARGETS)}, "
                f"got {self.target_modules!r}"
            )
        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout,
                          target_modules=list(self.target_modules), task_type="CAUSAL_LM")


@dataclass
class SFTRunConfig:
    """Everything that defines an SFT run. Budgets: ``max_steps`` or ``max_tokens`` (not
    both) fix the number of steps, else ``epochs`` does; ``max_seconds`` may stop earlier
    (the learning-rate schedule still spans the step count, so pair it with a step budget
    you expect to reach, or ``lr_scheduler="constant_with_warmup"``)."""

    seed: int = 0
    output_dir: str | None = None  # checkpoints; None: nothing is written
    learning_rate: float | None = None  # None: FULL_LR, or LORA_LR with lora
    batch_size: int = 32  # sequences per step and device
    grad_accum: int = 1
    max_length: int = 512  # tokens per sequence: longer examples are cut (or packed rows)
    epochs: float = 1.0
    max_steps: int | None = None
    max_tokens: int | None = None  # sequence tokens (prompt + completion) through the model
    max_seconds: float | None = None
    warmup: float = 0.05  # fraction of the steps spent warming the learning rate up
    lr_scheduler: str = "cosine"
    weight_decay: float = 0.01
    packing: str | None = None  # None, "whole" (examples kept whole) or "wrapped" (trl's)
    bf16: bool | None = None  # None: on a GPU that supports it; True on a CPU means autocast
    use_cpu: bool = False  # force the CPU even when a GPU is present
    logging_steps: int = 10
    save_steps: int | None = None  # None: no checkpoints
    save_total_limit: int | None = 2
    resume_from_checkpoint: bool | str | None = None  # True: the latest in output_dir
    lora: LoraSettings | None = None
    progress: bool = True  # tqdm bar (and the trainer's log lines)
    dataset_num_proc: int | None = None

    def check(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        check_int("seed", self.seed, 0, MAX_SEED)
        if self.learning_rate is not None:
            check_float("learning_rate", self.learning_rate, 1e-9, 1.0)
        check_int("batch_size", self.batch_size, 1, 1 << 20)
        check_int("grad_accum", self.grad_accum, 1, 1 << 20)
        check_int("max_length", self.max_length, 2, 1 << 20)
        check_float("epochs", self.epochs, 1e-6, 1e6)
        if self.max_steps is not None and self.max_tokens is not None:
            raise ValueError("give max_steps or max_tokens, not both (each fixes the step count)")
        if self.max_steps is not None:
            check_int("max_steps", self.max_steps, 1, 1 << 40)
        if self.max_tokens is not None:
            check_int("max_tokens", self.max_tokens, 1, 1 << 62)
        if self.max_seconds is not None:
            check_float("max_seconds", self.max_seconds, 1e-3, 1e7)
        check_float("warmup", self.warmup, 0.0, 0.99)
        check_choice("lr_scheduler", self.lr_scheduler,
                     ("cosine", "linear", "constant", "constant_with_warmup"))
        check_float("weight_decay", self.weight_decay, 0.0, 10.0)
        check_int("logging_steps", self.logging_steps, 1, 1 << 30)
        if self.save_steps is not None:
            check_int("save_steps", self.save_steps, 1, 1 << 30)
        if self.save_total_limit is not None:
            check_int("save_total_limit", self.save_total_limit, 1, 1 << 30)
        if (self.save_steps is not None or self.resume_from_checkpoint) and not self.output_dir:
            raise ValueError("output_dir must be set to save or resume checkpoints")
        check_choice("packing", self.packing, (None, "whole", "wrapped"))
        check_switches(self, ("use_cpu", "progress"))


def check_switches(config: Any, flags: Sequence[str]) -> None:
    """The fields a training run config shares: each of ``flags`` True or False, ``bf16``
    None, True or False, ``lora`` None or valid ``LoraSettings`` (``ValueError`` naming the
    first bad one)."""
    for name in flags:
        if not isinstance(getattr(config, name), bool):
            raise ValueError(f"{name} must be True or False, got {getattr(config, name)!r}")
    if config.bf16 not in (None, True, False):
        raise ValueError(f"bf16 must be None, True or False, got {config.bf16!r}")
    if config.lora is not None:
        if not isinstance(config.lora, LoraSettings):
            raise ValueError(f"lora must be LoraSettings or None, got {config.lora!r}")
        config.lora.to_peft()


@dataclass
class SFTResult:
    """What a run did. ``tokens_seen`` counts non-padding sequence tokens (prompt and
    completion) over the whole run, a resumed one included; ``wall_seconds`` and
    ``tokens_per_second`` are for this call's training loop."""

    model: Any  # the trained model (a peft.PeftModel with LoRA)
    budget: str  # "max_steps", "max_tokens", "max_seconds" or "epochs"
    budget_value: float
    steps: int  # optimizer steps done, in total
    tokens_seen: int
    wall_seconds: float
    stopped_by_time: bool  # max_seconds ended the run before its step count
    loss_history: list[tuple[int, float]] = field(default_factory=list)  # (step, train loss)
    trainable_parameters: int = 0
    total_parameters: int = 0
    output_dir: str | None = None
    tokens_this_run: int = 0

    @property
    def tokens_per_second(self) -> float:
        """Throughput of this call's training loop (all sequence tokens)."""
        return self.tokens_this_run / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def final_loss(self) -> float | None:
        """The last logged training loss."""
        return self.loss_history[-1][1] if self.loss_history else None


class RunMonitor(TrainerCallback):
    """Times the training loop, counts its tokens and stops it after ``max_seconds``
    (every process stops at the same step under ``accelerate launch``)."""

    def __init__(self, max_seconds: float | None = None, accelerator: Any = None) -> None:
        self.max_seconds = max_seconds
        self.accelerator = accelerator
        self.start = self.end = 0.0
        self.start_tokens = self.end_tokens = 0
        self.stopped_by_time = False

    def on_train_begin(self, args, state, control, **kwargs):
        self.start, self.start_tokens = time.perf_counter(), state.num_input_tokens_seen

    def on_step_end(self, args, state, control, **kwargs):
        if self.max_seconds is None or state.global_step >= state.max_steps:
            return
        over = time.perf_counter() - self.start >= self.max_seconds
        if self.accelerator is not None and self.accelerator.num_processes > 1:
            flag = torch.tensor([float(over)], device=self.accelerator.device)
            over = bool(self.accelerator.reduce(flag, reduction="sum").item() > 0)
        if over:
            self.stopped_by_time = True
            control.should_training_stop = True

    def on_train_end(self, args, state, control, **kwargs):
        self.end, self.end_tokens = time.perf_counter(), state.num_input_tokens_seen


class CausalCollator:
    """trl's collator with ``position_ids`` in place of the attention mask. Its padding is on
    the right and no token of a causal LM attends to a later one, so the mask changes no
    loss, but it makes attention take a masked path ~20% slower. Without it the trainer
    counts the tokens that are not ``<pad>`` (trl's logged ``num_tokens`` becomes the row
    length). For rows packed by :func:`~metacot_lab.train.packing.pack_whole_examples`
    (``seq_lengths``) trl's collator returns position ids that restart at 0 for every
    example; they are kept, and ``transformers`` builds a block-diagonal causal mask from
    them (no example attends to another)."""

    def __init__(self, collator: Any) -> None:
        self.collator = collator

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.collator(examples)
        batch.pop("attention_mask", None)
        if "position_ids" not in batch:
            rows, width = batch["input_ids"].shape
            batch["position_ids"] = torch.arange(width).repeat(rows, 1)
        return batch


def sft_config(config: SFTRunConfig, output_dir: str) -> SFTConfig:
    """The ``trl`` :class:`SFTConfig` for ``config`` (with the CPU traps of STACK.md avoided)."""
    lr = config.learning_rate or (LORA_LR if config.lora is not None else FULL_LR)
    device = "cpu" if config.use_cpu else get_device()
    bf16 = config.bf16
    if bf16 is None:
        bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    return SFTConfig(
        output_dir=output_dir,
        seed=config.seed,
        data_seed=config.seed,
        learning_rate=lr,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        max_length=config.max_length,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if config.max_steps is not None else -1,
        warmup_steps=config.warmup,  # a float below 1 is a fraction of the steps
        lr_scheduler_type=config.lr_scheduler,
        weight_decay=config.weight_decay,
        packing=config.packing == "wrapped",  # "whole" packs after trl's preparation
        packing_strategy="wrapped",  # trl's default "bfd" is ~10x slower on a CPU
        completion_only_loss=True,  # prompt tokens get label -100
        bf16=bf16,  # trl would default to True and fail on a CPU
        # a CPU run must say so: for bf16 autocast, and for DDP (gloo) under torchrun/accelerate
        use_cpu=device == "cpu" or (bf16 and device != "cuda"),
        activation_checkpointing=False,  # trl turns it on: 27% slower, useless at these sizes
        logging_steps=config.logging_steps,
        save_strategy="steps" if config.save_steps is not None else "no",
        save_steps=config.save_steps or 500,
        save_total_limit=config.save_total_limit,
        include_num_input_tokens_seen="non_padding",
        disable_tqdm=not config.progress,
        report_to="none",
        dataloader_pin_memory=torch.cuda.is_available(),
        dataset_num_proc=config.dataset_num_proc,
    )


def build_trainer(
    model: Any, tokenizer: PreTrainedTokenizerBase, dataset: Dataset, config: SFTRunConfig
) -> tuple[SFTTrainer, RunMonitor]:
    """An ``SFTTrainer`` ready to train on ``dataset`` (columns ``prompt``, ``completion``),
    with the step count of ``config``'s budget set, and its :class:`RunMonitor`."""
    config.check()
    if not isinstance(dataset, Dataset) or len(dataset) == 0:
        raise ValueError(f"dataset must be a non-empty datasets.Dataset, got {dataset!r}")
    missing = {"prompt", "completion"} - set(dataset.column_names)
    if missing:
        raise ValueError(f"dataset must have columns prompt and completion; missing {missing}")
    if tokenizer.eos_token is None or tokenizer.pad_token is None:
        raise ValueError("tokenizer must define eos_token and pad_token")
    if config.packing != "wrapped":
        warn_if_truncated(tokenizer, dataset, config.max_length)
    args = sft_config(config, config.output_dir or UNSAVED_DIR)
    bars = datasets_logging.is_progress_bar_enabled()
    if not config.progress:
        datasets_logging.disable_progress_bar()
    try:
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=dataset.select_columns(["prompt", "completion"]),
            processing_class=tokenizer,
            peft_config=config.lora.to_peft() if config.lora is not None else None,
        )
    finally:
        if bars:
            datasets_logging.enable_progress_bar()
    if config.packing == "whole":
        trainer.train_dataset = pack_whole_examples(trainer.train_dataset, config.max_length)
        trainer.data_collator.return_position_ids = True  # restarting at each seq_lengths entry
    trainer.data_collator = CausalCollator(trainer.data_collator)
    if config.max_tokens is not None:
        trainer.args.max_steps = steps_for_tokens(trainer, config.max_tokens)
    if not config.progress:
        trainer.remove_callback(PrinterCallback)  # the trainer prints logs when bars are off
    monitor = RunMonitor(config.max_seconds, trainer.accelerator)
    trainer.add_callback(monitor)
    return trainer, monitor


def warn_if_truncated(tokenizer: PreTrainedTokenizerBase, dataset: Dataset,
                      max_length: int) -> int:
    """Warn when examples (prompt, completion and ``<eos>``) exceed ``max_length`` tokens:
    the trainer cuts them, so a model never sees how those traces end. Returns how many."""
    texts = [p + c for p, c in zip(dataset["prompt"], dataset["completion"], strict=True)]
    lengths = [len(ids) + 1 for ids in tokenizer(texts)["input_ids"]]
    cut = sum(n > max_length for n in lengths)
    if cut:
        warnings.warn(f"{cut} of {len(lengths)} examples are longer than max_length="
                      f"{max_length} tokens (longest {max(lengths)}) and will be cut",
                      stacklevel=3)
    return cut


def steps_for_tokens(trainer: SFTTrainer, max_tokens: int) -> int:
    """Optimizer steps that put about ``max_tokens`` sequence tokens through the model.

    Counted per epoch, as the trainer walks the data: an epoch is ``ceil(rows / batch)``
    batches (the last one partial), so a step carries the epoch's tokens divided by its
    steps, not a full batch of mean-length rows (which undercounts small datasets)."""
    lengths = [len(ids) for ids in trainer.train_dataset["input_ids"]]
    args = trainer.args
    batches = math.ceil(len(lengths) / (args.per_device_train_batch_size * args.world_size))
    steps_per_epoch = max(1, batches // args.gradient_accumulation_steps)
    return max(1, math.ceil(max_tokens * steps_per_epoch / sum(lengths)))


def drop_training_wrappers(model: Any, keep: set[int] = frozenset()) -> Any:
    """Remove the forward wrappers training leaves on ``model`` and its submodules, except
    on modules whose ``id`` is in ``keep``: trl's fused-loss forward (its closure calls the
    model it was made for, so a ``deepcopy`` would still run the original's weights) and
    accelerate's mixed-precision autocast (bf16 inference after bf16 training). The model
    then runs its own forward in its own dtype, as after loading. Returns ``model``."""
    for module in model.modules():
        if id(module) not in keep:
            vars(module).pop("forward", None)
            vars(module).pop("_original_forward", None)
    return model


def train_sft(
    model: Any, tokenizer: PreTrainedTokenizerBase, dataset: Dataset, config: SFTRunConfig
) -> SFTResult:
    """Fine-tune ``model`` on ``dataset``'s completions; see :class:`SFTRunConfig`."""
    own_forward = {id(m) for m in model.modules() if "forward" in vars(m)}
    trainer, monitor = build_trainer(model, tokenizer, dataset, config)
    trainer.train(resume_from_checkpoint=config.resume_from_checkpoint or None)
    state = trainer.state
    if config.max_tokens is not None:
        budget, value = "max_tokens", config.max_tokens
    elif config.max_steps is not None:
        budget, value = "max_steps", config.max_steps
    else:
        budget, value = "epochs", config.epochs
    if monitor.stopped_by_time:
        budget, value = "max_seconds", config.max_seconds
    trained = drop_training_wrappers(trainer.model, keep=own_forward)
    return SFTResult(
        model=trained,
        budget=budget,
        budget_value=value,
        steps=state.global_step,
        tokens_seen=int(state.num_input_tokens_seen),
        wall_seconds=monitor.end - monitor.start,
        stopped_by_time=monitor.stopped_by_time,
        loss_history=[(h["step"], h["loss"]) for h in state.log_history if "loss" in h],
        trainable_parameters=count_parameters(trained, trainable_only=True),
        total_parameters=count_parameters(trained),
        output_dir=config.output_dir,
        tokens_this_run=int(monitor.end_tokens - monitor.start_tokens),
    )
