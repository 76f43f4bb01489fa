"""The hyperparameters ``train`` and ``compare`` use when none are given.

They are the registry's lecture/paper defaults (``optimizers.defaults``)
except where those do not train the zoo's models in a few epochs:

* ``sgd``: torch's lr=1e-3 barely moves an MLP in 10 epochs (digits: 41 %
  test accuracy); 0.1 is the classic CS231n/DeepOBS starting point.
* ``rmsprop``: lecture 000 (Hinton) recommends eta = 0.001; torch's 1e-2
  default oscillates on the CNNs.

``--lr NAME=VALUE`` and ``--tune-lr`` override them.
"""

from descentlab import optimizers

TRAINING_OVERRIDES = {
    "sgd": {"lr": 0.1},
    "rmsprop": {"lr": 1e-3},
}


def training_hparams(name, overrides=None):
    """The overrides of ``optimizers.defaults(name)`` a run uses."""
    optimizers.info(name)  # ValueError with a suggestion for an unknown name
    return {**TRAINING_OVERRIDES.get(name, {}), **(overrides or {})}
