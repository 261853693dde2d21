"""Where a key of a YAML file is, so that a configuration or KB problem names ``file:line``.

Every YAML file the product validates (the deployment and privacy configuration, the
procedures and their configuration) reports its problems by the line of the key they are
about; ``key_lines`` finds those lines and ``problem_lines`` turns pydantic's errors into
``(line, key path, message)``.
"""

from __future__ import annotations

import yaml
from pydantic import ValidationError


def key_lines(text: str, offset: int = 0) -> dict[tuple[str, ...], int]:
    """1-based line of every key path in a YAML document, e.g. ("support", "hours") -> 17; list items
    by their index ("inputs", "0"). ``offset``: lines of the file before ``text`` (front matter)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = path + (str(key.value),)
                lines[sub] = key.start_mark.line + 1 + offset
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[path + (str(i),)] = item.start_mark.line + 1 + offset
                walk(item, path + (str(i),))

    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return lines
    if root is not None:
        walk(root, ())
    return lines


def line_of(lines: dict[tuple[str, ...], int], loc: tuple[str, ...], default: int = 1) -> int:
    """The line of ``loc``, else of the nearest key above it that the file has."""
    return next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), default)


def problem_lines(
    exc: ValidationError, lines: dict[tuple[str, ...], int], default: int = 1
) -> list[tuple[int, str, str]]:
    """(line, key path, message) of each of pydantic's errors, in the words a file's author reads."""
    problems = []
    for error in exc.errors():
        loc = tuple(
            str(part)
            for part in error["loc"]
            if str(part) not in ("[key]", "constrained-str") and not str(part).startswith(("function-", "dict["))
        )
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "string_pattern_mismatch":
            message = f"{error.get('input')!r} is not valid here"
        problems.append((line_of(lines, loc, default), ".".join(loc) or "(top level)", message))
    return problems
