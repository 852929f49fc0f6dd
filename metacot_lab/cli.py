"""The ``metacot`` command: ``metacot data build ...`` (:mod:`metacot_lab.data`) and
``metacot checkpoint export ...`` (:mod:`metacot_lab.checkpoints`) and ``metacot rl ...``
(:mod:`metacot_lab.rl_experiment`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = """usage: metacot COMMAND ...

commands:
  data        build datasets of search traces (metacot data build --help)
  checkpoint  ship a trained run as a checkpoint (metacot checkpoint export --help)
  rl          GRPO from a shipped checkpoint, scored before and after (metacot rl --help)
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to a subcommand; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if args else 2
    if args[0] == "data":
        from .data import main as data_main

        return data_main(args[1:], prog="metacot data")
    if args[0] == "checkpoint":
        from .checkpoints import main as checkpoint_main

        return checkpoint_main(args[1:], prog="metacot checkpoint")
    if args[0] == "rl":
        from .rl_experiment import main as rl_main

        return rl_main(args[1:], prog="metacot rl")
    print(f"metacot: unknown command {args[0]!r}\n{USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
