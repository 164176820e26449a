"""Progress lines of the engines' command lines: printed to stderr, durations as 1h02m / 3m05s."""

from __future__ import annotations

import math
import sys

# Progress lines are printed at most this often (plus one at each milestone).
PRINT_EVERY_S = 2.0


def say(text: str) -> None:
    """One progress or status line on stderr, flushed at once (stdout stays for results)."""
    print(text, file=sys.stderr, flush=True)


def format_duration(seconds: float) -> str:
    """'?' for an unknown ETA, else hours and minutes, or minutes and seconds."""
    if not math.isfinite(seconds):
        return "?"
    h, rest = divmod(int(round(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"
