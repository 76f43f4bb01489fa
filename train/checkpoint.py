"""The checkpoint file that ``train`` writes and ``export`` reads.

One ``torch.save`` dict that ``torch.load(weights_only=True)`` can read::

    format      "descentlab.checkpoint/1"
    model       {"name", "kwargs", "input_shape", "num_classes"}   -> models.create(...)
    model_state the model's state_dict
    dataset     {"name", "data_dir", "seed", "task"}
    optimizer   {"name", "hparams", "state"}        (state: the optimizer's state_dict)
    history     the History as a dict of lists
    config      the run's configuration (epochs, batch size, schedule, ...)
    epoch       epochs completed
    resume      (optional) what continuing the run needs: the batch generator's
                state, the schedule's state_dict
"""

import hashlib
from pathlib import Path

FORMAT = "descentlab.checkpoint/1"
KEYS = ("model", "model_state", "dataset", "optimizer", "history", "config", "epoch")


def save(path, checkpoint):
    from descentlab.io import save_torch

    extra = {"resume": checkpoint["resume"]} if "resume" in checkpoint else {}
    save_torch(path, {"format": FORMAT, **{k: checkpoint[k] for k in KEYS}, **extra})


def load(path):
    """Read and check a checkpoint; ``FileNotFoundError``/``ValueError`` with one clear line."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint '{path}' does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"checkpoint '{path}' is not a readable descentlab checkpoint "
                         f"({type(exc).__name__})") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise ValueError(f"checkpoint '{path}' is not a {FORMAT} file")
    missing = [k for k in KEYS if k not in checkpoint]
    if missing:
        raise ValueError(f"checkpoint '{path}' lacks {', '.join(missing)}")
    return checkpoint


def rebuild_model(checkpoint):
    """The trained model, in eval mode, from a loaded checkpoint."""
    from descentlab import models

    spec = checkpoint["model"]
    model = models.create(spec["name"], tuple(spec["input_shape"]), spec["num_classes"],
                          **spec["kwargs"])
    model.load_state_dict(checkpoint["model_state"])
    return model.eval()


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
