"""A progress bar for the long stages when a person watches them at a terminal.

The stages already report their progress in their log lines: a training logs ``<model> epoch 12/500
...`` after each epoch, the training-evolution analysis ``epoch 40 (5/51): ...`` after each
checkpoint.  When stderr is a terminal, ``log_handler`` returns a logging handler that prints each
log line as before and, below them, keeps one tqdm bar that follows the first ``done/total`` counter
of the latest line (a new bar when the total changes or the count goes back).  When stderr is not a
terminal (every Snakemake job: its output goes to a log file), or ``RNNHMM_PROGRESS=0`` is set, the
handler is a plain stream handler and the logs are byte for byte what they were; tqdm is then not
even imported.
"""

from __future__ import annotations

import logging
import os
import re
from typing import TextIO

COUNTER = re.compile(r"(?<![\w/])(\d+)/(\d+)(?![\w/])")


def counter(message: str) -> tuple[int, int, str] | None:
    """(done, total, what came before it) of the first ``done/total`` in a message, with
    0 <= done <= total and total > 0; None when there is none."""
    for m in COUNTER.finditer(message):
        done, total = int(m[1]), int(m[2])
        if 0 <= done <= total and total > 0:
            return done, total, message[:m.start()].strip(" (:")
    return None


class TerminalProgress(logging.Handler):
    """Log lines above a progress bar that follows their ``done/total`` counters."""

    def __init__(self, stream: TextIO):
        super().__init__()
        from tqdm import tqdm

        self._tqdm, self.stream, self.bar = tqdm, stream, None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            self._tqdm.write(line, file=self.stream)
            found = counter(record.getMessage())
            if found is None:
                return
            done, total, what = found
            if self.bar is None or self.bar.total != total or done < self.bar.n:
                self.close_bar()
                self.bar = self._tqdm(total=total, file=self.stream, dynamic_ncols=True, leave=False)
            self.bar.set_description(what[-40:], refresh=False)
            self.bar.update(done - self.bar.n)
        except Exception:  # a progress bar must never end a stage
            self.handleError(record)

    def close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        self.close_bar()
        super().close()


def wants_bar(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("RNNHMM_PROGRESS", "1") != "0"


def log_handler(stream: TextIO) -> logging.Handler:
    """The handler for the stage logs on ``stream``: with a progress bar at a terminal, plain otherwise."""
    return TerminalProgress(stream) if wants_bar(stream) else logging.StreamHandler(stream)
