"""Search trees as text: one module per trace format, a registry, and the trace verifier.

Every format turns a :class:`~metacot_lab.search.tree.SearchTree` into
``prompt(problem) + completion(tree)`` and reads such text back (never raising):

============= ================ ==========================================================
name          environments     what it writes
============= ================ ==========================================================
sos           countdown        Stream of Search text (the published format)
searchformer  maze             Searchformer's create/close/plan tokens (published grammar)
solution      countdown, maze  the solution path only (the chain-of-thought baseline)
metacot       countdown, maze  compact Meta-CoT: explore / verify / backtrack / goal lines
metacot_walls maze             compact Meta-CoT plus the walls next to each expanded cell
backtrack     countdown, maze  a solution path with a wrong branch and ``[BACK]`` (Eq. 8)
solution_map  maze             ``solution`` under a prompt that marks every cell wall or open
metacot_map   maze             ``metacot`` under that prompt
============= ================ ==========================================================

:func:`verify_trace` replays a trace in any format on its problem with the environment's
rules and verifier: the one check that rewards and evaluation use. :func:`tree_from_trace`
rebuilds the search tree a trace (a model's too) describes, its mistakes marked, to draw it.
"""

from __future__ import annotations

from .base import FormatBase, ParsedTrace, TraceFormat, TraceStep, TraceVerdict
from .registry import FORMATS, formats_for, get_format
from .to_tree import tree_from_trace
from .verify import ERROR_KINDS, final_answer, verify_trace

__all__ = [
    "ERROR_KINDS",
    "FORMATS",
    "FormatBase",
    "ParsedTrace",
    "TraceFormat",
    "TraceStep",
    "TraceVerdict",
    "final_answer",
    "formats_for",
    "get_format",
    "tree_from_trace",
    "verify_trace",
]
