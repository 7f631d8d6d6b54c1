"""Where a node of a YAML document is: the line and column a lockfile error names."""

from __future__ import annotations

from typing import Any

import yaml


def locate(text: str, where: tuple[Any, ...], at_key: bool, loader: Any) -> tuple[int | None, int | None]:
    """1-based line and column of the node at `where` (or of its key)."""
    try:
        node = yaml.compose(text, Loader=loader)
    except yaml.YAMLError:
        return None, None
    if node is None:
        return 1, 1
    mark = node.start_mark
    for step in where:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == step or str(k.value) == str(step):
                    node, mark = v, (k.start_mark if at_key and step == where[-1] else v.start_mark)
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            mark = node.start_mark
        else:
            break
    return mark.line + 1, mark.column + 1
