"""argparse types shared by the commands: each turns a bad value into argparse's
own one-line usage error (exit 2)."""

import argparse
import ast


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def batch_size(text):
    """An integer, or ``full`` for batch gradient descent (returned as None)."""
    return None if text == "full" else positive_int(text)


def int_list(text):
    try:
        values = tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"repeated value in {text!r}")
    return values


def name_list(text):
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected names separated by commas")
    return names


def assignment(text):
    """``NAME=VALUE``; the value is a Python literal (0.9, (0.9, 0.99), True) or a plain string."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        return name.strip(), value.strip()


def lr_assignment(text):
    name, value = assignment(text)
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, float) or not value > 0:
        raise argparse.ArgumentTypeError(f"expected NAME=LR with LR > 0, got {text!r}")
    return name, value
