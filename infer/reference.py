"""The PyTorch model an IR came from, scored the same way: the reference each IR is compared with
example by example (which test images it gets right that the IR gets wrong, and back).

The model is rebuilt from the run's ``checkpoint.pt`` (the weights the export started from).
"""

import numpy as np

from .evaluate import classes


def torch_correct(checkpoint_path, x, y, batch_size=1024):
    """Per example of ``x``: is the checkpoint's PyTorch prediction the label ``y``? (a boolean array)"""
    import torch

    from descentlab.train.checkpoint import load, rebuild_model

    model = rebuild_model(load(checkpoint_path))
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    with torch.inference_mode():
        logits = torch.cat([model(batch) for batch in x.split(batch_size)]).numpy()
    return classes(logits) == np.asarray(y).astype(np.int64).reshape(-1)
