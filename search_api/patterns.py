"""Regular expressions a company writes into its files (masking patterns, procedure inputs),
checked the same way everywhere: they must compile, and must not match an empty text (a
pattern that matches nothing would mask every gap, or accept an empty answer)."""

from __future__ import annotations

import re


def checked_pattern(pattern: str) -> str:
    """``pattern`` when it is a usable regular expression; ValueError saying why not."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    if compiled.fullmatch(""):
        raise ValueError("the pattern matches an empty text")
    return pattern
