"""Read the CIFAR-10 "python version": pickled batches of 10000 32x32 colour images.

The directory ``cifar-10-batches-py`` of ``cifar-10-python.tar.gz``
(Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html) holds
``data_batch_1`` ... ``data_batch_5`` (training) and ``test_batch``, each a
pickled dict written by Python 2::

    b"data"    uint8 array [10000, 3072]: 1024 red, then green, then blue values, rows first
    b"labels"  list of 10000 ints in 0..9

and ``batches.meta`` with ``b"label_names"``.

Unpickling runs code named in the file, so these files are read with an
unpickler that only rebuilds numpy arrays, lists and dicts: a hostile file
fails with ``ValueError`` instead of executing anything.
"""

import pickle
from pathlib import Path

import numpy as np

from descentlab.train.idx import problem

TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
IMAGE_SHAPE = (3, 32, 32)
NUM_CLASSES = 10

# The only globals a CIFAR pickle needs: numpy's array rebuild and, for files
# written by Python 3, the codec that re-creates bytes objects.
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        # numpy 2 renamed numpy.core to numpy._core; old files name the old module.
        return super().find_class(module.replace("numpy.core", "numpy._core"), name)


def read_batch(path, hint=""):
    """``(images uint8 [N, 3, 32, 32], labels int64 [N])`` from one batch file."""
    path = Path(path)
    entries = _unpickle(path, hint)
    data, labels = entries.get("data"), entries.get("labels")
    if not isinstance(data, np.ndarray) or labels is None:
        raise ValueError(problem(path, "lacks the 'data' array or the 'labels' list", hint))
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != int(np.prod(IMAGE_SHAPE)):
        raise ValueError(problem(path, f"holds {data.dtype} data of shape {data.shape}, "
                                        f"expected uint8 [N, 3072]", hint))
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(problem(path, "has labels that are not a list of integers", hint)) from None
    if labels.shape != (len(data),):
        raise ValueError(problem(path, f"has {labels.size} labels for {len(data)} images", hint))
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(problem(path, f"has labels outside 0..{NUM_CLASSES - 1}", hint))
    return data.reshape(-1, *IMAGE_SHAPE), labels


def read(directory, hint=""):
    """``(train_x, train_y, test_x, test_y, label_names)`` from a ``cifar-10-batches-py`` directory.

    The five training batches are concatenated in file order. ``label_names``
    comes from ``batches.meta`` when present, else is ``None``.
    """
    directory = Path(directory)
    train = [read_batch(directory / name, hint) for name in TRAIN_FILES]
    test_x, test_y = read_batch(directory / TEST_FILE, hint)
    names = None
    if (directory / META_FILE).is_file():
        meta = _unpickle(directory / META_FILE, hint).get("label_names")
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in meta] if meta else None
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]),
            test_x, test_y, names)


def _unpickle(path, hint):
    if not path.is_file():
        raise FileNotFoundError(problem(path, "does not exist", hint))
    try:
        with open(path, "rb") as f:
            entries = _ArrayUnpickler(f, encoding="bytes").load()
    except Exception as exc:  # any unpickling failure means the same thing: not a CIFAR batch
        raise ValueError(problem(path, f"is not a readable CIFAR-10 pickle ({type(exc).__name__}: {exc})",
                                  hint)) from None
    if not isinstance(entries, dict):
        raise ValueError(problem(path, "is not a CIFAR-10 batch (no dict inside)", hint))
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in entries.items()}

