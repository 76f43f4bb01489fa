"""The PyTorch model an IR came from, scored the same way: the reference each IR is compared
with example by example (which test images it gets right that the IR gets wrong, and back).

The model is rebuilt from the run's ``checkpoint.pt`` (the weights the export started from).
"""

import numpy as np

from .evaluate import score


def torch_score(checkpoint_path, x, y, task="classification", batch_size=1024):
    """``evaluate.score`` of the checkpoint's PyTorch model on ``x``: accuracy, loss, confusion, predicted."""
    import torch

    from descentlab.train.checkpoint import load, rebuild_model

    model = rebuild_model(load(checkpoint_path))
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    with torch.inference_mode():
        logits = torch.cat([model(batch) for batch in x.split(batch_size)]).numpy()
    return score(logits, np.asarray(y), task)
