"""GRPO from a shipped checkpoint, scored before and after: ``metacot rl`` (see
:mod:`metacot_lab.rl_experiment`), kept here beside the other experiment drivers::

    .venv/bin/python benchmarks/rl_experiment.py --checkpoint countdown3-metacot \\
        --max-seconds 1800 --out runs/rl-cd3
"""

from metacot_lab.rl_experiment import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python benchmarks/rl_experiment.py"))
