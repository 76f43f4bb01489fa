"""Seconds per phase of a run: ``with clock("test"): ...`` adds the block's wall time to
``clock.seconds["test"]`` (also when the block raises or returns). The run records
(``train.run``, ``compare.task``) keep these as their ``timings``."""

import contextlib
import time


class Clock:
    def __init__(self):
        self.seconds = {}

    @contextlib.contextmanager
    def __call__(self, phase):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - start
