"""How close an exported model's logits must be to PyTorch's.

1e-4 in units of the logits' scale: float32 keeps about 7 significant digits,
so a model whose logits reach the hundreds (Rprop's, trained on mini-batches)
legitimately differs by more than 1e-4 in absolute terms after the exporters
reorder its sums. Logits within [-1, 1] keep the plain 1e-4.
"""

import numpy as np

TOLERANCE = 1e-4


def allowed(expected):
    """The largest max |difference| accepted against the reference logits ``expected``."""
    return TOLERANCE * max(1.0, float(np.abs(np.asarray(expected)).max()))
