"""Text from users made safe to show, on paper or on a terminal.

Names, YAML values and file names can carry control characters (a terminal runs escape sequences)
and bidirectional overrides (which make a name or a line read differently from what it holds):
both are dropped wherever text is printed. Tabs and newlines stay.
"""

from __future__ import annotations

_DROP = dict.fromkeys(
    [c for c in range(0x20) if c not in (0x09, 0x0A)] + list(range(0x7F, 0xA0))  # C0 and C1 controls
    + list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A))  # bidi embeddings, overrides and isolates
)


def plain(text: str) -> str:
    """``text`` without control characters or bidirectional overrides."""
    return text.translate(_DROP)
