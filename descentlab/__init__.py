"""descentlab: the package root. Every top-level package folder X of the
repository is ``descentlab.X``; this folder holds only what they all share:
``errors`` (the user-error type), ``io`` (atomic writes) and ``__main__``."""
