"""A per-visitor rate limit (in memory, per process): at most ``limit`` hits in ``window``
seconds; the walk-in survey links and the public complaint form use it."""

from __future__ import annotations

import time


class RateLimit:
    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self._hits: dict[str, list[float]] = {}

    def exceeded(self, who: str) -> bool:
        """Count a hit by ``who``; True when it is one too many (the hit is then not counted)."""
        now = time.monotonic()
        recent = [t for t in self._hits.get(who, []) if now - t < self.window]
        self._hits[who] = recent
        if len(recent) >= self.limit:
            return True
        recent.append(now)
        return False
