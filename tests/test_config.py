"""Run-wide settings: QUICK from the environment, seeding, device choice."""

from __future__ import annotations

import importlib
import os
import random

import pytest
import torch

from metacot_lab import config


@pytest.fixture
def reload_config(monkeypatch):
    """Reload ``config`` under a given ``METACOT_QUICK``; restore the real module afterwards."""

    def load(value: str | None):
        if value is None:
            monkeypatch.delenv("METACOT_QUICK", raising=False)
        else:
            monkeypatch.setenv("METACOT_QUICK", value)
        return importlib.reload(config)

    yield load
    monkeypatch.undo()
    importlib.reload(config)


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", " Yes ", "True"])
def test_quick_is_on(reload_config, value):
    assert reload_config(value).QUICK is True


@pytest.mark.parametrize("value", [None, "", "0", "false", "no", "off", "2", "quick"])
def test_quick_is_off(reload_config, value):
    assert reload_config(value).QUICK is False


def _draw():
    return random.random(), torch.rand(3).tolist(), torch.randint(0, 1000, (4,)).tolist()


def test_seed_everything_is_deterministic():
    config.seed_everything(123)
    first = _draw()
    config.seed_everything(123)
    assert _draw() == first
    config.seed_everything(124)
    assert _draw() != first


def test_seed_everything_accepts_the_largest_torch_seed():
    config.seed_everything(config.MAX_SEED)
    config.seed_everything(0)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", None, True, 2**64])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        config.seed_everything(seed)


def test_get_device_is_cpu_without_an_accelerator():
    expected = "cuda" if torch.cuda.is_available() else None
    mps = getattr(torch.backends, "mps", None)
    if expected is None and mps is not None and mps.is_available():
        expected = "mps"
    assert config.get_device() == (expected or "cpu")
    assert config.get_device("cpu") == "cpu"


@pytest.mark.parametrize("prefer", ["tpu", "CPU", "", 0, []])
def test_get_device_rejects_unknown_prefer(prefer):
    with pytest.raises(ValueError, match="prefer"):
        config.get_device(prefer)


def test_paths_point_into_the_repository():
    assert (config.REPO_ROOT / "metacot_lab" / "config.py").is_file()
    assert config.DATA_DIR.parent == config.REPO_ROOT



def test_describe_hardware_on_a_cpu_names_cores_and_torch(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    text = config.describe_hardware()
    assert f"{os.cpu_count()} cores, no GPU, torch {torch.__version__}" in text


def test_describe_hardware_on_a_gpu_names_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Tiny GPU")
    assert config.describe_hardware() == f"Tiny GPU GPU, torch {torch.__version__}"


def test_bf16_is_fast_follows_the_cpu_features(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert config.bf16_is_fast("cpu") is False  # AVX2 only: bf16 is emulated
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    assert config.bf16_is_fast("cpu") is True
    assert config.bf16_is_fast("mps") is False
    with pytest.raises(ValueError, match="device"):
        config.bf16_is_fast("tpu")
