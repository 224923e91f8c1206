"""Draw the state machine as a Mermaid diagram, from the one transition table.

    python -m workflows.diagram > docs/state-machine.md

A test regenerates it and fails when docs/state-machine.md has drifted.
"""

from __future__ import annotations

from .machine import TRANSITIONS
from .states import STATE_INFO, State


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {State.DRAFT.value}"]
    for state in State:
        lines.append(f'    {state.value}: {state.value}<br/>{STATE_INFO[state].staff_label}')
    for move in TRANSITIONS:
        guard = ""
        if move.conditions or move.unless:
            parts = list(move.conditions) + [f"not {u}" for u in move.unless]
            guard = " [" + ", ".join(parts) + "]"
        for source in move.sources:
            lines.append(f"    {source.value} --> {move.dest.value}: {move.trigger} ({move.actor}){guard}")
    for state, info in STATE_INFO.items():
        if info.final:
            lines.append(f"    {state.value} --> [*]")
    return "\n".join(lines)


def document() -> str:
    return (
        "# The nomination state machine\n\n"
        "Generated from `workflows/machine.py` by `python -m workflows.diagram > docs/state-machine.md`;\n"
        "do not edit by hand (a test fails when this file and the machine disagree).\n"
        "Each arrow reads `action (who may take it) [guards]`; `council` moves are made by the tally\n"
        "of a council session, never by a person.\n\n"
        "```mermaid\n" + mermaid() + "\n```\n"
    )


if __name__ == "__main__":
    print(document(), end="")
