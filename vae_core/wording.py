"""The wording of messages: counts that agree with their noun ("1 image"), lists of alternatives, an
error told in one line, and long names from files or links quoted short."""

from __future__ import annotations

from collections.abc import Sequence


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n`, grouped in thousands, and the noun in the form that agrees with it: "1 image", "3 images",
    "10,000 images"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def one_of(names: Sequence[str]) -> str:
    """Alternatives for a sentence: "PNG, JPEG or GIF"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def first_line(error: Exception) -> str:
    """An error's first line, without the file path an OSError carries."""
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def abridged(text: str, limit: int = 40) -> str:
    """`text` cut to `limit` characters with an ellipsis: a name from a file or a link is quoted in a
    message, never echoed whole (a 60,000-character one would fill the page)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
