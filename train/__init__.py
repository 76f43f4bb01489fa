"""Data, the training loop, schedules, the compare runner and its reports."""
