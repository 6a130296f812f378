"""Progress bars for long steps (calibration, auto precision, pruning, bench, target builds).

click's bar (position, ETA), on stderr, drawn only on a terminal: pipes, logs and CI get
nothing, and every command's --quiet turns it off (``enabled=False``).
"""

from __future__ import annotations

import sys


class Progress:
    """A progress bar with position and ETA on stderr (click's), drawn only when enabled and
    stderr is a terminal: nothing at all in pipes, logs and CI, or with --quiet. It closes
    (ends its line) when the count reaches ``total``, or at ``close()`` when work stops
    early."""

    def __init__(self, total: int, label: str, enabled: bool = True) -> None:
        self.total, self.label, self.done = total, label, 0
        self.enabled = enabled
        self._bar = None
        if enabled and total > 0 and sys.stderr.isatty():
            import click

            self._bar = click.progressbar(length=total, label=label, file=sys.stderr,
                                          show_eta=True, show_pos=True)
            self._bar.__enter__()

    def step(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            if self.done >= self.total:
                self.close()

    def close(self) -> None:
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.__exit__(None, None, None)
