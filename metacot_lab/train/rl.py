"""RL with verifiable rewards: GRPO (``trl``'s ``GRPOTrainer``) from a supervised checkpoint.

For every prompt the policy samples ``num_generations`` completions; each is scored by a
reward of :mod:`metacot_lab.rewards` (a replay of the trace with the environment's rules);
a completion's advantage is its reward minus its group's mean (divided by the group's
standard deviation, ``scale_rewards="group"``), and the loss raises the log-probability of
the tokens of better-than-average completions, clipped as in PPO, with a KL penalty
``beta`` towards the starting (SFT) model. A group whose completions all earn the same
reward teaches nothing (``frac_reward_zero_std`` in the curves): RL works on the problems
the model solves *sometimes*.

Generation dominates a GRPO step on a CPU, so completions are sampled with the compact
decoding loop of :mod:`metacot_lab.decoding` (the same tokens ``generate`` samples, several
times faster) instead of trl's ``model.generate``. A callback records the training curves and,
every ``eval_steps`` steps, the greedy solve rate on a fixed validation set.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from datasets import Dataset
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase, PrinterCallback, TrainerCallback
from trl import GRPOConfig, GRPOTrainer

from .. import decoding
from ..config import MAX_SEED, bf16_is_fast, get_device
from ..envs import problem_from_dict
from ..models import count_parameters, save_model
from ..rewards import REWARDS, get_reward
from ..traces import get_format, verify_trace
from ..traces.verify import read_trace
from ..validation import check_choice, check_float, check_int
from .sft import LoraSettings, RunMonitor, check_switches, drop_training_wrappers

RL_LR = 5e-5
"""Default learning rate: trl's 1e-6 is tuned for billion-parameter models and leaves a 5M
one where it started for hundreds of steps; SFT here used 1e-3, so RL takes ~20x less (a
policy step must stay close to the model that generated the samples)."""

LOSS_TYPES = ("grpo", "dapo", "dr_grpo", "bnpo")
CURVE_KEYS = {  # record name: trl's logged metric
    "reward": "reward",
    "reward_std": "reward_std",
    "frac_reward_zero_std": "frac_reward_zero_std",
    "entropy": "entropy",
    "kl": "kl",
    "completion_tokens": "completions/mean_length",
    "clipped_ratio": "completions/clipped_ratio",
}


@dataclass
class RLRunConfig:
    """Everything that defines a GRPO run. ``prompts_per_step`` prompts each get
    ``num_generations`` completions per optimizer step; ``max_steps`` is the budget, and
    ``max_seconds`` may stop earlier (the learning rate is constant after warm-up, so a
    run stopped by time is the same run cut short)."""

    reward: str = "solved"  # a name of metacot_lab.rewards.REWARDS
    seed: int = 0
    output_dir: str | None = None  # checkpoints; None: nothing is written
    learning_rate: float | None = None  # None: RL_LR (LoRA: 10x that)
    beta: float = 0.02  # KL penalty to the starting model
    num_generations: int = 8
    prompts_per_step: int = 8
    max_completion_length: int = 512
    temperature: float = 1.0
    top_p: float = 1.0
    loss_type: str = "dapo"  # trl's default: token-level normalisation
    epsilon: float = 0.2  # PPO clip range
    mask_truncated_completions: bool = True  # a cut trace has no verdict: no gradient
    max_steps: int = 100
    max_seconds: float | None = None
    warmup_steps: int = 0
    eval_steps: int = 10  # greedy validation solve rate every this many steps (and at 0)
    logging_steps: int = 1
    save_steps: int | None = None
    save_total_limit: int | None = 2
    resume_from_checkpoint: bool | str | None = None
    lora: LoraSettings | None = None
    progress: bool = True
    use_cpu: bool = False
    bf16: bool | None = None  # autocast for the loss; None: where bf16 is fast (bf16_is_fast)

    def check(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        check_choice("reward", self.reward, tuple(REWARDS))
        check_int("seed", self.seed, 0, MAX_SEED)
        if self.learning_rate is not None:
            check_float("learning_rate", self.learning_rate, 1e-12, 1.0)
        check_float("beta", self.beta, 0.0, 100.0)
        check_int("num_generations", self.num_generations, 2, 4096)
        check_int("prompts_per_step", self.prompts_per_step, 1, 1 << 20)
        check_int("max_completion_length", self.max_completion_length, 1, 1 << 20)
        check_float("temperature", self.temperature, 1e-3, 100.0)
        check_float("top_p", self.top_p, 1e-6, 1.0)
        check_choice("loss_type", self.loss_type, LOSS_TYPES)
        check_float("epsilon", self.epsilon, 0.0, 10.0)
        check_int("max_steps", self.max_steps, 1, 1 << 40)
        if self.max_seconds is not None:
            check_float("max_seconds", self.max_seconds, 1e-3, 1e7)
        check_int("warmup_steps", self.warmup_steps, 0, 1 << 40)
        check_int("eval_steps", self.eval_steps, 1, 1 << 40)
        check_int("logging_steps", self.logging_steps, 1, 1 << 40)
        if self.save_steps is not None:
            check_int("save_steps", self.save_steps, 1, 1 << 40)
        if (self.save_steps is not None or self.resume_from_checkpoint) and not self.output_dir:
            raise ValueError("output_dir must be set to save or resume checkpoints")
        check_switches(self, ("mask_truncated_completions", "progress", "use_cpu"))


@dataclass
class RLResult:
    """What a run did: the trained model, and curves (one dict per logged step)."""

    model: Any
    steps: int
    wall_seconds: float
    stopped_by_time: bool
    curves: list[dict[str, float]] = field(default_factory=list)  # trl's metrics per step
    validation: list[dict[str, float]] = field(default_factory=list)  # greedy val rate
    behaviour: list[dict[str, float]] = field(default_factory=list)  # sampled traces
    trainable_parameters: int = 0
    output_dir: str | None = None


class TraceStats:
    """The reward trl calls, recording what the sampled traces do at each call (one call
    per generation batch): mean reward, share solved, mean nodes explored, backtracks per
    trace and the share of traces that claim a goal they did not reach."""

    def __init__(self, reward: str) -> None:
        self.reward = get_reward(reward)
        self.__name__ = reward  # trl names the logged reward after the function
        self.calls: list[dict[str, float]] = []

    def __call__(self, completions: Sequence[Any], problem: Sequence[Any],
                 format: Sequence[str], **kwargs: Any) -> list[float]:
        scores = self.reward(completions, problem=problem, format=format, **kwargs)
        solved = scores if self.reward is REWARDS["solved"] else \
            REWARDS["solved"](completions, problem=problem, format=format)
        nodes = backtracks = false_goals = 0
        for text, p, f, ok in zip(completions, problem, format, solved, strict=True):
            p = problem_from_dict(json.loads(p)) if isinstance(p, str) else p
            fmt = get_format(f)
            steps = read_trace(p, text, fmt)[0].steps if isinstance(text, str) else []
            nodes += verify_trace(p, text, fmt).nodes_explored
            backtracks += sum(s.kind == "backtrack" for s in steps)
            false_goals += any(s.kind == "goal" for s in steps) and not ok
        n = max(1, len(completions))
        self.calls.append({"reward": sum(scores) / n, "solved": sum(solved) / n,
                           "nodes": nodes / n, "backtracks": backtracks / n,
                           "false_goal": false_goals / n})
        return scores


class CompactGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` sampling with :func:`metacot_lab.decoding.decode` (Llama-style
    models; others keep trl's ``generate``)."""

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations,
                              has_tool_images=False):
        model = self.accelerator.unwrap_model(self.model)
        if self.use_vllm or not decoding.supports(model):
            return super()._generate_single_turn(prompt_ids, images, multimodal_fields,
                                                 num_generations, has_tool_images)
        if not hasattr(self, "_sampler"):
            self._sampler = torch.Generator(device=model.device).manual_seed(self.args.seed)
        was_training = model.training
        model.eval()
        tokenizer = self.processing_class
        try:
            with torch.inference_mode():
                ids = decoding.decode(model, [list(p) for p in prompt_ids],
                                      max_new_tokens=self.max_completion_length,
                                      eos_id=tokenizer.eos_token_id,
                                      pad_id=tokenizer.pad_token_id,
                                      temperature=self.temperature, top_p=self.top_p,
                                      generator=self._sampler)
        finally:
            model.train(was_training)
        return ids, None


class Validation(TrainerCallback):
    """Greedy solve rate of the policy on fixed validation problems, at step 0 and every
    ``every`` steps (and at the end)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, problems: Sequence[Any],
                 format: str, every: int, max_new_tokens: int, report: bool = False) -> None:
        self.tokenizer, self.problems, self.format = tokenizer, list(problems), format
        self.every, self.max_new_tokens, self.report = every, max_new_tokens, report
        self.rows: list[dict[str, float]] = []

    def measure(self, model: Any, step: int) -> None:
        from ..evaluate import evaluate

        if not self.problems or (self.rows and self.rows[-1]["step"] == step):
            return
        report = evaluate(model, self.tokenizer, self.problems, self.format,
                          max_new_tokens=self.max_new_tokens)
        table = report.summary(by=None)
        self.rows.append({"step": step, "solve_rate": float(table["solve_rate"].iloc[0]),
                          "answer_rate": float(table["answer_rate"].iloc[0]),
                          "tokens": float(table["tokens"].iloc[0])})
        if self.report:  # next to the progress bar
            row = self.rows[-1]
            tqdm.write(f"step {step}: greedy validation solve rate {row['solve_rate']:.3f}, "
                       f"answer rate {row['answer_rate']:.3f}, {row['tokens']:.0f} tokens")

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.measure(model, state.global_step)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every == 0:
            self.measure(model, state.global_step)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self.measure(model, state.global_step)


def grpo_config(config: RLRunConfig, output_dir: str) -> GRPOConfig:
    """The ``trl`` :class:`GRPOConfig` for ``config`` (CPU traps of STACK.md avoided)."""
    lr = config.learning_rate or (RL_LR * 10 if config.lora is not None else RL_LR)
    device = "cpu" if config.use_cpu else get_device()
    bf16 = bf16_is_fast(device) if config.bf16 is None else config.bf16
    return GRPOConfig(
        output_dir=output_dir,
        seed=config.seed,
        data_seed=config.seed,
        learning_rate=lr,
        lr_scheduler_type="constant_with_warmup",
        warmup_steps=config.warmup_steps,
        per_device_train_batch_size=config.prompts_per_step * config.num_generations,
        num_generations=config.num_generations,
        max_completion_length=config.max_completion_length,
        temperature=config.temperature,
        top_p=config.top_p,
        beta=config.beta,
        loss_type=config.loss_type,
        epsilon=config.epsilon,
        mask_truncated_completions=config.mask_truncated_completions,
        max_steps=config.max_steps,
        logging_steps=config.logging_steps,
        save_strategy="steps" if config.save_steps is not None else "no",
        save_steps=config.save_steps or 500,
        save_total_limit=config.save_total_limit,
        bf16=bf16,  # trl would default to True, and fail on a CPU without it
        use_cpu=device == "cpu" or (bf16 and device != "cuda"),  # CPU autocast
        activation_checkpointing=False,  # on by default in trl: slower, useless at 5M
        disable_tqdm=not config.progress,
        report_to="none",
        dataloader_pin_memory=torch.cuda.is_available(),
    )


def build_grpo_trainer(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    dataset: Dataset,
    config: RLRunConfig,
) -> tuple[CompactGRPOTrainer, TraceStats]:
    """The ``trl`` trainer of :func:`train_grpo` (its KL reference: ``model`` as it is now)
    and the reward wrapper that records the sampled traces, before any step."""
    config.check()
    if not isinstance(dataset, Dataset) or len(dataset) == 0:
        raise ValueError(f"dataset must be a non-empty datasets.Dataset, got {dataset!r}")
    missing = {"prompt", "problem", "format"} - set(dataset.column_names)
    if missing:
        raise ValueError(f"dataset must have columns prompt, problem and format; missing "
                         f"{sorted(missing)}")
    formats = set(dataset["format"])
    if len(formats) != 1:
        raise ValueError(f"dataset rows must share one format, got {sorted(formats)}")
    stats = TraceStats(config.reward)
    with tempfile.TemporaryDirectory(prefix="metacot-rl-ref-") as reference:
        if config.beta > 0 and config.lora is None and not hasattr(model, "peft_config"):
            # trl builds the KL reference from the policy's config path: the start, as is
            model.config._name_or_path = str(save_model(model, reference))
        trainer = CompactGRPOTrainer(
            model=model,
            reward_funcs=[stats],
            args=grpo_config(config, config.output_dir or os.path.join(
                tempfile.gettempdir(), "metacot-rl-unsaved")),
            train_dataset=dataset.select_columns(["prompt", "problem", "format"]),
            processing_class=tokenizer,
            peft_config=config.lora.to_peft() if config.lora is not None else None,
        )
    if not config.progress:
        trainer.remove_callback(PrinterCallback)
    return trainer, stats


def train_grpo(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    dataset: Dataset,
    config: RLRunConfig,
    validation: Dataset | None = None,
    validation_max_new_tokens: int | None = None,
) -> RLResult:
    """GRPO on the prompts of ``dataset`` (columns ``prompt``, ``problem``, ``format``, as
    :mod:`metacot_lab.data` writes them), starting from ``model`` (full weights, a
    ``peft`` model, or with ``config.lora`` new adapters). ``validation`` (same columns, a
    split other than test) is decoded greedily every ``config.eval_steps`` steps, with
    ``validation_max_new_tokens`` (default: the completion budget of training)."""
    own_forward = {id(m) for m in model.modules() if "forward" in vars(m)}
    trainer, stats = build_grpo_trainer(model, tokenizer, dataset, config)
    monitor = RunMonitor(config.max_seconds, trainer.accelerator)
    trainer.add_callback(monitor)
    checker = None
    if validation is not None:
        problems = [problem_from_dict(json.loads(p)) for p in validation["problem"]]
        checker = Validation(tokenizer, problems, dataset[0]["format"], config.eval_steps,
                             validation_max_new_tokens or config.max_completion_length,
                             report=config.progress)
        trainer.add_callback(checker)
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=config.resume_from_checkpoint or None)
    trained = drop_training_wrappers(trainer.model, keep=own_forward)
    curves = [{"step": h["step"], **{k: h[v] for k, v in CURVE_KEYS.items() if v in h}}
              for h in trainer.state.log_history if "reward" in h]
    behaviour = [{"step": i + 1, **row} for i, row in enumerate(stats.calls)]
    return RLResult(
        model=trained,
        steps=trainer.state.global_step,
        wall_seconds=time.perf_counter() - start,
        stopped_by_time=monitor.stopped_by_time,
        curves=curves,
        validation=checker.rows if checker is not None else [],
        behaviour=behaviour,
        trainable_parameters=count_parameters(trained, trainable_only=True),
        output_dir=config.output_dir,
    )
