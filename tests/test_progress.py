"""The terminal progress bar (rnnhmm.progress): it follows the counters of the stages' log lines at a
terminal, and leaves the logs untouched anywhere else."""

import io
import logging
import re

import pytest

from rnnhmm import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("message, expected", [
    ("chain2_h16_d4_s0 epoch 12/500 train 1.0 val 2.0 grad 0.5 | 0.10 s/epoch ETA 1m", (12, 500, "chain2_h16_d4_s0 epoch")),
    ("epoch 40 (5/51): TR 0.2 p_sw 0.1", (5, 51, "epoch 40")),
    ("wrote results/smoke/models/chain2/h16_d4/seed0/model.pt", None),  # a path is no counter
    ("3/0 and 7/5", None),  # no total, or more done than the total
    ("nothing to count", None),
])
def test_counter_of_a_log_line(message, expected):
    assert progress.counter(message) == expected


def _logger(stream) -> logging.Logger:
    logger = logging.getLogger(f"rnnhmm.test_progress.{id(stream)}")
    logger.propagate = False
    handler = progress.log_handler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    return logger


def test_at_a_terminal_the_log_lines_stay_and_a_bar_follows_them(monkeypatch):
    monkeypatch.delenv("RNNHMM_PROGRESS", raising=False)
    out = Terminal()
    logger = _logger(out)
    assert isinstance(logger.handlers[0], progress.TerminalProgress)
    for epoch in range(1, 5):
        logger.info("m epoch %d/4 train %.1f", epoch, 1.0 / epoch)
    logger.info("done")
    logger.handlers[0].close()
    text = out.getvalue()
    for epoch in range(1, 5):
        assert f"INFO m epoch {epoch}/4 train {1.0 / epoch:.1f}\n" in text  # every line, as it was
    assert "INFO done\n" in text
    bars = re.findall(r"m epoch: *(\d+)%\|[^|]*\| (\d)/4", text)
    assert bars and bars[-1] == ("100", "4"), text  # the bar reached 4 of 4


def test_a_new_total_starts_a_new_bar():
    out = Terminal()
    logger = _logger(out)
    handler = logger.handlers[0]
    logger.info("a 2/2")
    first = handler.bar
    logger.info("b 1/3")
    assert handler.bar is not first and handler.bar.total == 3 and handler.bar.n == 1
    handler.close()


@pytest.mark.parametrize("terminal, env", [(False, None), (True, "0")])
def test_elsewhere_the_logs_are_plain_lines(terminal, env, monkeypatch):
    if env is None:
        monkeypatch.delenv("RNNHMM_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("RNNHMM_PROGRESS", env)
    out = Terminal() if terminal else io.StringIO()
    logger = _logger(out)
    assert type(logger.handlers[0]) is logging.StreamHandler
    logger.info("m epoch %d/4", 1)
    logger.info("m epoch %d/4", 2)
    assert out.getvalue() == "INFO m epoch 1/4\nINFO m epoch 2/4\n"
