"""Babel extractor for programme definitions: the labels people read are Vietnamese message ids.

Registered in babel.cfg (``[extractors]``); ``pybabel extract`` then lists every label, name, title and
description of ``workflows/programmes/**.yaml`` with its file and line, like an ``N_`` call in code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import yaml

# The keys whose values people read (docs/programmes.md); ids, roles and states are not translated.
TRANSLATED_KEYS = frozenset({"title", "name", "label", "staff_label", "citizen_label", "next_step", "description"})


def extract(fileobj: IO[bytes], keywords, comment_tags, options) -> Iterator[tuple[int, None, str, list]]:
    """Yield ``(line, None, message, [])`` for every translated value, in the file's order."""
    root = yaml.compose(fileobj.read().decode("utf-8"))
    todo = [root] if root is not None else []
    found = []
    while todo:
        node = todo.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(value, yaml.ScalarNode) and key.value in TRANSLATED_KEYS and value.value:
                    found.append((value.start_mark.line + 1, value.start_mark.column, value.value))
                else:
                    todo.append(value)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
    for line, _column, message in sorted(found):
        yield line, None, message, []
