"""A one-line progress display on a terminal; silent otherwise (CI, pipes, --quiet)."""

import sys
import time


class Progress:
    def __init__(self, total, quiet=False, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.total, self.done, self.start = total, 0, time.monotonic()

    def show(self, text):
        """Redraw the line: a bar for finished units, then ``text``."""
        if not self.enabled:
            return
        width = 20
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        elapsed = time.monotonic() - self.start
        line = f"[{bar}] {self.done}/{self.total} {elapsed:5.0f}s {text}"
        self.stream.write("\r" + line[:150].ljust(150))
        self.stream.flush()

    def advance(self, text=""):
        self.done += 1
        self.show(text)

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
