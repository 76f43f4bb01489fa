"""The lecture toy data sets, as numpy arrays: nothing to download, the same on every machine.

- ``sigmoid2``: the two points (0.5, 0.2) and (2.5, 0.9) that the single
  sigmoid neuron f(x) = 1 / (1 + exp(-(w x + b))) is trained on (lecture 002,
  Khapra CS7015 lecture 5, "What does it mean to train the network?").
- ``sparse``: "100 random (x, y) pairs and then for roughly 80% of these pairs
  we set x to 0, thereby making the feature for w sparse" (lecture 002, the
  Adagrad slides). Here x ~ U(-4, 4), y = f(x) for the sigmoid with w* = 1,
  b* = 0.5 drawn *before* x is zeroed (the slide's order), then each x is set
  to 0 with probability 0.8.
- ``blobs2d``: a two-feature binary set like the lecture's table of X1, X2, y
  split into mini-batches of 128 rows (lecture 000, "Batch vs. Mini-batch"):
  1280 points, 640 per class, from two Gaussian blobs centred at (0.35, 0.35)
  and (0.65, 0.65) with standard deviation 0.12 that overlap a little.

Each generator uses its own fixed seed, so "the sparse data" is one data set,
whatever seed a run uses for its initial weights and batch order.
"""

import numpy as np

SPARSE_SIZE, SPARSE_ZERO_FRACTION, SPARSE_W, SPARSE_B = 100, 0.8, 1.0, 0.5
BLOBS_PER_CLASS, BLOBS_CENTRES, BLOBS_STD = 640, ((0.35, 0.35), (0.65, 0.65)), 0.12
DATA_SEED = 5  # lecture 5 of CS7015


def sigmoid2():
    """``(x float32 [2, 1], y float32 [2, 1])``: exactly the lecture's two points."""
    return (np.array([[0.5], [2.5]], dtype=np.float32),
            np.array([[0.2], [0.9]], dtype=np.float32))


def sparse():
    """``(x float32 [100, 1], y float32 [100, 1])``: about 80% of the x are exactly 0."""
    rng = np.random.default_rng(DATA_SEED)
    x = rng.uniform(-4.0, 4.0, size=(SPARSE_SIZE, 1))
    y = 1.0 / (1.0 + np.exp(-(SPARSE_W * x + SPARSE_B)))
    x[rng.random(SPARSE_SIZE) < SPARSE_ZERO_FRACTION] = 0.0
    return x.astype(np.float32), y.astype(np.float32)


def blobs2d():
    """``(x float32 [1280, 2], y int64 [1280])``: class 0 then class 1, 640 each."""
    rng = np.random.default_rng(DATA_SEED)
    x = np.concatenate([rng.normal(centre, BLOBS_STD, size=(BLOBS_PER_CLASS, 2)) for centre in BLOBS_CENTRES])
    y = np.repeat(np.arange(len(BLOBS_CENTRES)), BLOBS_PER_CLASS)
    return x.astype(np.float32), y.astype(np.int64)
