"""A trace viewer: the text of a trace with each step coloured by what it does.

:func:`highlight_trace` parses a trace with its format (never raising) and cuts the text at
the character offsets of the parsed steps. Each piece gets the role of its step:

========= ============================================================================
prompt    the problem statement before the first step
explore   ``generate``, ``expand``, ``select``, ``close``, ``backup``: moving the search on
verify    ``dead_end``, ``prune``: a state checked and rejected
backtrack ``backtrack``: returning to an earlier state
goal      ``goal``: the target checked and reached
error     from where the parser stopped making sense to the end of the text
========= ============================================================================

Several steps at one offset (a line that explores and verifies) take the strongest role
(goal > backtrack > verify > explore). The result renders as coloured HTML in Jupyter and
as plain text elsewhere: no notebook front end or display is needed.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass

from ..traces import TraceFormat, get_format

ROLES: tuple[str, ...] = ("prompt", "explore", "verify", "backtrack", "goal", "error")
ROLE_OF_KIND: dict[str, str] = {
    "generate": "explore", "expand": "explore", "select": "explore", "close": "explore",
    "backup": "explore", "dead_end": "verify", "prune": "verify", "wall": "verify",
    "backtrack": "backtrack", "goal": "goal",
}
ROLE_COLOR: dict[str, str] = {
    "prompt": "#e8e8e8", "explore": "#dbe9f6", "verify": "#fde0c5", "backtrack": "#f4b6c2",
    "goal": "#ffe873", "error": "#ff6b6b",
}
_STRENGTH = {"explore": 0, "verify": 1, "backtrack": 2, "goal": 3}


@dataclass(frozen=True)
class HighlightedTrace:
    """A trace cut into ``(role, text)`` pieces that join back to the whole text."""

    segments: tuple[tuple[str, str], ...]
    error: str | None = None  # the parser's error, if it stopped early

    @property
    def text(self) -> str:
        """The whole trace."""
        return "".join(piece for _, piece in self.segments)

    def counts(self) -> dict[str, int]:
        """How many pieces of each role (prompt and error included)."""
        found = Counter(role for role, _ in self.segments)
        return {role: found[role] for role in ROLES if found[role]}

    def html(self, max_chars: int | None = None) -> str:
        """Coloured HTML (a ``<pre>`` block with a legend); ``max_chars`` cuts long traces."""
        parts, used = [], 0
        for role, piece in self.segments:
            if max_chars is not None and used + len(piece) > max_chars:
                piece = piece[: max(max_chars - used, 0)] + " …"
            used += len(piece)
            parts.append(f'<span style="background:{ROLE_COLOR[role]}" title="{role}">'
                         f"{html.escape(piece)}</span>")
            if max_chars is not None and used >= max_chars:
                break
        legend = " ".join(
            f'<span style="background:{ROLE_COLOR[r]};padding:0 4px">{r}</span>'
            for r in ROLES)
        note = f"<p><b>parse error:</b> {html.escape(self.error)}</p>" if self.error else ""
        return (f"<div>{legend}{note}<pre style='white-space:pre-wrap;line-height:1.4'>"
                f"{''.join(parts)}</pre></div>")

    def _repr_html_(self) -> str:
        return self.html(max_chars=4000)

    def __str__(self) -> str:
        return "\n".join(f"[{role:>9}] {piece.rstrip()}" for role, piece in self.segments
                         if piece.strip())


def highlight_trace(text: str, format: str | TraceFormat) -> HighlightedTrace:
    """Cut ``text`` (a trace in ``format``) into pieces coloured by step role."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    parsed = get_format(format).parse(text)
    end = len(text) if parsed.error_pos is None else min(max(parsed.error_pos, 0), len(text))
    role_at: dict[int, str] = {}
    for step in parsed.steps:
        if step.pos is None or not 0 <= step.pos < end:
            continue
        role = ROLE_OF_KIND.get(step.kind, "explore")
        old = role_at.get(step.pos)
        if old is None or _STRENGTH[role] > _STRENGTH[old]:
            role_at[step.pos] = role
    cuts = sorted(role_at)
    segments: list[tuple[str, str]] = []
    if not cuts or cuts[0] > 0:
        segments.append(("prompt", text[: cuts[0] if cuts else end]))
    for i, start in enumerate(cuts):
        stop = cuts[i + 1] if i + 1 < len(cuts) else end
        segments.append((role_at[start], text[start:stop]))
    if parsed.error is not None and end < len(text):
        segments.append(("error", text[end:]))
    return HighlightedTrace(tuple((r, s) for r, s in segments if s), parsed.error)
