"""Draw a programme's state machine as a Mermaid diagram, from its definition.

    python -m workflows.diagram > docs/state-machine.md
    python -m workflows.diagram --programme artisan-titles [--version 2024] [--dir tests/data/programmes]

The first form writes the artisan titles' page; the second prints one programme version's diagram, the
block docs/programmes.md carries between its ``<!-- diagram ... -->`` markers.  Tests regenerate both
and fail when the documentation has drifted from the definitions.
"""

from __future__ import annotations

import argparse
import re

from .programme import Programme
from .registry import registry
from .states import ARTISAN


def mermaid(programme: Programme = ARTISAN) -> str:
    initial = programme.definition.initial
    lines = ["stateDiagram-v2", f"    [*] --> {initial}"]
    for state in programme.definition.states:
        lines.append(f"    {state.id}: {state.id}<br/>{state.staff_label}")
    for move in programme.moves:
        guard = ""
        if move.conditions or move.unless:
            parts = list(move.conditions) + [f"not {u}" for u in move.unless]
            guard = " [" + ", ".join(parts) + "]"
        for source in move.sources:
            lines.append(f"    {source} --> {move.dest}: {move.trigger} ({move.actor}){guard}")
    for state in programme.definition.states:
        if state.final:
            lines.append(f"    {state.id} --> [*]")
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


def marker(programme: Programme) -> str:
    return f"<!-- diagram {programme.id} {programme.version} -->"


def block(programme: Programme) -> str:
    """The generated block of docs/programmes.md for one programme version, markers included."""
    return f"{marker(programme)}\n```mermaid\n{mermaid(programme)}\n```\n<!-- end diagram -->"


def embedded(text: str) -> dict[tuple[str, str], str]:
    """The diagram blocks a document carries, by (programme id, version)."""
    found = re.finditer(r"<!-- diagram (\S+) (\S+) -->\n.*?<!-- end diagram -->", text, flags=re.S)
    return {(m.group(1), m.group(2)): m.group(0) for m in found}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programme", help="a programme id: print its diagram block")
    parser.add_argument("--version", help="its version (default: the newest)")
    parser.add_argument("--dir", action="append", default=[], help="another folder of definitions")
    args = parser.parse_args(argv)
    if not args.programme:
        print(document(), end="")
        return
    programmes = registry()
    for directory in args.dir:
        programmes.add_directory(directory)
    version = args.version or programmes.versions(args.programme)[-1].version
    print(block(programmes.get(args.programme, version)))


if __name__ == "__main__":
    main()
