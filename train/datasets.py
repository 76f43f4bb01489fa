"""The dataset registry: every dataset descentlab trains on, as in-memory tensors.

``load(name, data_dir=None, seed=0)`` returns a frozen ``Dataset`` with
``train``/``val``/``test`` splits. Nothing is ever downloaded.

| name | input | classes | train / val / test | from |
|---|---|---|---|---|
| digits | 1x8x8 | 10 | 1079 / 359 / 359 | scikit-learn's bundled 8x8 digits |
| fashion-mnist | 1x28x28 | 10 | 55000 / 5000 / 10000 | IDX files (Debian `dataset-fashion-mnist`) |
| mnist | 1x28x28 | 10 | 55000 / 5000 / 10000 | IDX files the user provides |
| cifar10 | 3x32x32 | 10 | 45000 / 5000 / 10000 | the CIFAR-10 python batches the user provides |
| sigmoid2 | 1 | regression | 2 / 2 / 2 | lecture 002: (0.5, 0.2), (2.5, 0.9) |
| sparse | 1 | regression | 100 / 100 / 100 | lecture 002: Adagrad's sparse feature |
| blobs2d | 2 | 2 | 768 / 256 / 256 | lecture 000: batch vs mini-batch |

Splits. The validation split is drawn with ``seed``, stratified by class (each
class keeps its share, up to rounding), from the training files: 5000 images,
or 20% of them for user files holding fewer than 25000. Datasets
without an official test set (digits, blobs2d) first set aside a stratified
test split with a fixed seed, so every run is scored on the same test set. The
regression toys are fitted, not generalised from, as in the lecture: their
val and test splits are the training points themselves.

Normalisation. Image pixels are scaled to [0, 1], then standardised per channel
with the mean and standard deviation of the *training* split only (the val and
test splits reuse them; the numbers are in ``Dataset.normalisation``). The toy
sets are left as the lecture gives them.

Files. An explicit ``data_dir`` is the only place
looked in: missing files there are an error naming them. Without it
``$DESCENTLAB_DATA`` is searched, then the system copy (Fashion-MNIST only:
``/usr/share/datasets/fashion-mnist``, from Debian's ``dataset-fashion-mnist``;
no system copy of MNIST or CIFAR-10 exists). In each directory the files are
taken from the sub-directory named after the dataset (``mnist/``,
``fashion-mnist/``, ``cifar10/`` or ``cifar-10-batches-py/``) if there is one,
else from the directory itself. MNIST and Fashion-MNIST files have the same
names: keep both in their own sub-directories, or a flat directory serves
whichever of the two is asked for.
"""

import difflib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from descentlab.errors import USER_ERRORS
from descentlab.train import cifar, idx, toys

ENV_VAR = "DESCENTLAB_DATA"
VAL_SIZE = 5000          # held out of the 60000 (CIFAR-10: 50000) training images
HOLDOUT_FRACTION = 0.2   # digits and blobs2d: 60 / 20 / 20
TEST_SEED = 0            # fixed: the test split of digits and blobs2d never moves

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
DIGIT_CLASSES = tuple(str(d) for d in range(10))

# The four IDX files of MNIST and Fashion-MNIST. Each may be gzipped or raw, and
# some copies spell the stem with a dot ("train-images.idx3-ubyte").
IDX_FILES = {"train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
             "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte"}


@dataclass(frozen=True)
class Split:
    """``x``: float32 [N, *input_shape]; ``y``: int64 [N] class indices, or float32 [N, 1] targets."""
    x: torch.Tensor
    y: torch.Tensor

    def __len__(self):
        return len(self.y)


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str                  # "classification" or "regression"
    train: Split
    val: Split
    test: Split
    input_shape: tuple         # (C, H, W) for images, (F,) for feature data
    num_classes: int           # 1 for regression
    source: str                # the directory the files came from, or "embedded" / "generated"
    normalisation: str         # how x was scaled, with the numbers
    classes: tuple = ()        # class names, in label order

    @property
    def sizes(self):
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


@dataclass(frozen=True)
class _Entry:
    load: object               # (data_dir, seed) -> Dataset
    subdirs: tuple = ()        # sub-directory names a data directory may keep the files in
    system_dirs: tuple = ()    # searched after $DESCENTLAB_DATA
    how_to_get: str = ""       # appended to every missing/corrupt-file error


def available():
    """The registry names, sorted."""
    return sorted(REGISTRY)


def load(name, data_dir=None, seed=0):
    """The dataset ``name`` as tensors; ``ValueError`` for an unknown name,
    ``FileNotFoundError``/``ValueError`` naming the file for missing or corrupt files."""
    entry = REGISTRY.get(name)
    if entry is None:
        close = difflib.get_close_matches(str(name), REGISTRY, n=1)
        guess = f"did you mean '{close[0]}'? " if close else ""
        raise ValueError(f"unknown dataset '{name}'; {guess}(available: {', '.join(available())})")
    return entry.load(data_dir, seed)


def from_splits(train, test, val=None, name="custom", classes=(), seed=0):
    """A ``Dataset`` from the user's own data, so that every stage (training,
    export, OpenVINO evaluation) takes it like one of ours.

    Each split is a pair of tensors ``(x, y)`` or a ``torch.utils.data.Dataset``
    of ``(x, y)`` items, used as it is (no normalisation). Integer labels make a
    classification task with ``max(label) + 1`` classes; float targets
    ``[N, 1]`` a regression. Without ``val``, a stratified 20% of ``train``
    (drawn with ``seed``) is held out for validation.
    """
    train, test = _as_split(train, "train"), _as_split(test, "test")
    if val is None:
        labels = train.y.numpy() if not train.y.is_floating_point() else np.zeros(len(train))
        keep, held = stratified_split(labels, holdout_size(len(train)), seed)
        train, val = Split(train.x[keep], train.y[keep]), Split(train.x[held], train.y[held])
    else:
        val = _as_split(val, "val")
    splits = (train, val, test)
    shapes = {tuple(s.x.shape[1:]) for s in splits}
    if len(shapes) != 1:
        raise ValueError(f"dataset '{name}': the splits' inputs have different shapes {sorted(shapes)}")
    if len({s.y.is_floating_point() for s in splits}) != 1:
        raise ValueError(f"dataset '{name}': mix of integer labels and float targets across splits")
    if train.y.is_floating_point():
        return Dataset(name, "regression", *splits, shapes.pop(), 1, "given", "none: as given")
    num_classes = int(max(s.y.max() for s in splits)) + 1
    if any(s.y.min() < 0 for s in splits):
        raise ValueError(f"dataset '{name}': class labels must be 0..C-1, found a negative one")
    return Dataset(name, "classification", *splits, shapes.pop(), num_classes, "given", "none: as given",
                   tuple(classes) or tuple(str(c) for c in range(num_classes)))


def _as_split(data, part):
    if isinstance(data, Split):
        return data
    if isinstance(data, torch.utils.data.Dataset):
        items = [data[i] for i in range(len(data))]
        if not items:
            raise ValueError(f"the {part} split is empty")
        data = (torch.stack([torch.as_tensor(x) for x, _ in items]),
                torch.stack([torch.as_tensor(y) for _, y in items]))
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ValueError(f"the {part} split must be (x, y) tensors or a torch Dataset of (x, y) items")
    x, y = (torch.as_tensor(a) for a in data)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"the {part} split has {len(x)} inputs and {len(y)} labels; it needs as many of each, > 0")
    y = y.to(torch.float32).reshape(-1, 1) if y.is_floating_point() else y.to(torch.int64).reshape(-1)
    return Split(x.to(torch.float32), y)


def describe(data_dir=None):
    """One dict per dataset for ``descentlab datasets``: can it be loaded, its
    sizes, and where it was found or why it is unavailable. Loads each dataset
    (Fashion-MNIST takes well under a second) so "available" means loadable."""
    rows = []
    for name in available():
        try:
            ds = load(name, data_dir)
        except USER_ERRORS as exc:  # missing, corrupt or unreadable files: say why
            rows.append({"name": name, "available": False, "task": None, "input_shape": None,
                         "num_classes": None, "sizes": None, "source": None, "normalisation": None,
                         "reason": str(exc)})
            continue
        rows.append({"name": name, "available": True, "task": ds.task, "input_shape": list(ds.input_shape),
                     "num_classes": ds.num_classes, "sizes": ds.sizes, "source": ds.source,
                     "normalisation": ds.normalisation, "reason": None})
    return rows


# ---- finding files --------------------------------------------------------

def locate(name, data_dir=None):
    """The directory holding ``name``'s files, by the rules of the module docstring.

    An explicit ``data_dir`` (or its sub-directory named after the dataset) is
    returned as is: a file missing there is reported by the reader, naming it.
    Otherwise the first searched directory holding any of the dataset's files
    wins; ``FileNotFoundError`` if none does.
    """
    entry = REGISTRY[name]
    if data_dir is not None:
        data_dir = Path(data_dir).expanduser()
        if not data_dir.is_dir():
            raise FileNotFoundError(f"{name}: data directory {data_dir} does not exist; {entry.how_to_get}")
        return _dataset_dir(data_dir, entry)
    searched = [Path(os.environ[ENV_VAR]).expanduser()] if os.environ.get(ENV_VAR) else []
    searched += [Path(d) for d in entry.system_dirs]
    for directory in searched:
        if directory.is_dir() and _holds_any(name, _dataset_dir(directory, entry)):
            return _dataset_dir(directory, entry)
    where = f"in {', '.join(map(str, searched))}" if searched else f"(${ENV_VAR} is not set)"
    raise FileNotFoundError(f"{name}: no files found {where}; {entry.how_to_get}")


def _dataset_dir(directory, entry):
    """``directory``'s sub-directory named after the dataset if it has one, else ``directory``."""
    for sub in entry.subdirs:
        if (directory / sub).is_dir():
            return directory / sub
    return directory


def _holds_any(name, directory):
    if name == "cifar10":
        return any((directory / f).is_file() for f in (*cifar.TRAIN_FILES, cifar.TEST_FILE))
    return any(_idx_path(directory, stem).is_file() for stem in IDX_FILES.values())


def _idx_path(directory, stem):
    """The existing spelling of an IDX file (gz or raw, '-idx' or '.idx'), else the canonical '.gz' name."""
    for spelling in (stem, stem.replace("-idx", ".idx")):
        for suffix in (".gz", ""):
            path = directory / f"{spelling}{suffix}"
            if path.is_file():
                return path
    return directory / f"{stem}.gz"


# ---- splits and normalisation ---------------------------------------------

def stratified_split(labels, holdout, seed):
    """``(keep, held_out)``: sorted index arrays; ``held_out`` has ``holdout`` items
    drawn with ``seed``, each class contributing its share (largest remainders)."""
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    quota = holdout * counts / counts.sum()
    take = np.floor(quota).astype(int)
    # Hand the rounding remainder to the classes with the largest fractional parts.
    for i in np.argsort(-(quota - take), kind="stable")[: holdout - take.sum()]:
        take[i] += 1
    rng = np.random.default_rng(seed)
    held = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take)])
    mask = np.zeros(len(labels), dtype=bool)
    mask[held] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def _image_dataset(name, train_x, train_y, test_x, test_y, *, scale, val_size, seed, source, classes,
                   test_from_train=False):
    """Split, scale to [0, 1] and standardise uint8/int images [N, C, H, W] into a Dataset."""
    if test_from_train:
        keep, held = stratified_split(train_y, holdout_size(len(train_y)), TEST_SEED)
        train_x, train_y, test_x, test_y = train_x[keep], train_y[keep], train_x[held], train_y[held]
    keep, held = stratified_split(train_y, val_size, seed)
    parts = [(train_x[keep], train_y[keep]), (train_x[held], train_y[held]), (test_x, test_y)]
    splits = [Split(torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.int64)))
              for x, y in parts]
    # (x / scale - mean / scale) / (std / scale) == (x - mean) / std: one pass fewer over the images.
    std, mean = torch.std_mean(splits[0].x, dim=(0, 2, 3), keepdim=True)
    for split in splits:
        split.x.sub_(mean).div_(std)
    numbers = ", ".join(f"{m / scale:.4f}/{s / scale:.4f}"
                        for m, s in zip(mean.flatten().tolist(), std.flatten().tolist()))
    normalisation = (f"pixels / {scale:g} to [0, 1], then (x - mean) / std per channel with the training "
                     f"split's mean/std = {numbers}")
    return Dataset(name, "classification", *splits, tuple(train_x.shape[1:]), len(classes), source,
                   normalisation, classes)


def holdout_size(n):
    """20% of ``n``: the test split of digits and blobs2d, and their validation split."""
    return round(HOLDOUT_FRACTION * n)


def file_val_size(n):
    """The validation size for ``n`` training images read from files: 5000, or 20% of a small user set."""
    return min(VAL_SIZE, holdout_size(n))


# ---- the loaders ----------------------------------------------------------

def _load_digits(data_dir, seed):
    table = np.loadtxt(_digits_csv(), delimiter=",", dtype=np.float32)
    images, labels = table[:, :-1].reshape(-1, 1, 8, 8), table[:, -1].astype(np.int64)
    return _image_dataset("digits", images, labels, None, None, scale=16.0, val_size=holdout_size(len(images)),
                          seed=seed, source="embedded", classes=DIGIT_CLASSES, test_from_train=True)


def _digits_csv():
    """scikit-learn's bundled ``digits.csv.gz`` (the file ``load_digits`` parses:
    64 pixel values 0..16 and the label per row), found without importing
    scikit-learn, which takes about 2 s."""
    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.submodule_search_locations[0] if spec else ".") / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"digits: {path} does not exist; reinstall scikit-learn (pip install -e .)")
    return path


def _idx_loader(name, classes):
    def load_idx(data_dir, seed):
        directory = locate(name, data_dir)
        hint = REGISTRY[name].how_to_get
        arrays = {}
        for key, stem in IDX_FILES.items():
            dims = (None, 28, 28) if key.endswith("_x") else (None,)
            arrays[key] = idx.read(_idx_path(directory, stem), dims, hint)
        for part in ("train", "test"):
            x, y = arrays[f"{part}_x"], arrays[f"{part}_y"]
            if len(x) != len(y):
                raise ValueError(f"{name}: {len(x)} {part} images but {len(y)} labels in {directory}; {hint}")
            if y.size and y.max() >= len(classes):
                raise ValueError(f"{name}: {part} labels outside 0..{len(classes) - 1} in {directory}; {hint}")
        return _image_dataset(name, arrays["train_x"][:, None], arrays["train_y"], arrays["test_x"][:, None],
                              arrays["test_y"], scale=255.0, val_size=file_val_size(len(arrays["train_y"])),
                              seed=seed, source=str(directory), classes=classes)
    return load_idx


def _load_cifar10(data_dir, seed):
    directory = locate("cifar10", data_dir)
    train_x, train_y, test_x, test_y, names = cifar.read(directory, REGISTRY["cifar10"].how_to_get)
    return _image_dataset("cifar10", train_x, train_y, test_x, test_y, scale=255.0,
                          val_size=file_val_size(len(train_y)), seed=seed, source=str(directory),
                          classes=tuple(names or CIFAR_CLASSES))


def _regression_toy(name, make):
    def load_toy(data_dir, seed):
        x, y = (torch.from_numpy(a) for a in make())
        fitted = Split(x, y)
        return Dataset(name, "regression", fitted, fitted, fitted, (x.shape[1],), 1, "generated",
                       "none: the lecture's values as they are")
    return load_toy


def _load_blobs2d(data_dir, seed):
    x, y = toys.blobs2d()
    rest, test = stratified_split(y, holdout_size(len(y)), TEST_SEED)
    keep, val = stratified_split(y[rest], holdout_size(len(y)), seed)
    train, val = rest[keep], rest[val]
    splits = [Split(torch.from_numpy(x[i]), torch.from_numpy(y[i])) for i in (train, val, test)]
    return Dataset("blobs2d", "classification", *splits, (2,), 2, "generated",
                   "none: features as generated, roughly in [0, 1]", ("0", "1"))


_IDX_HOW = ("put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
            "t10k-labels-idx1-ubyte.gz (gzipped or raw) in --data-dir or ${var}/{name}")
REGISTRY = {
    "digits": _Entry(_load_digits),
    "fashion-mnist": _Entry(
        _idx_loader("fashion-mnist", FASHION_CLASSES), ("fashion-mnist",), ("/usr/share/datasets/fashion-mnist",),
        "install it with `apt-get install dataset-fashion-mnist` (files in /usr/share/datasets/fashion-mnist), "
        "or " + _IDX_HOW.format(var=ENV_VAR, name="fashion-mnist")),
    "mnist": _Entry(
        _idx_loader("mnist", DIGIT_CLASSES), ("mnist",), (),
        "no system copy of MNIST exists: " + _IDX_HOW.format(var=ENV_VAR, name="mnist")),
    "cifar10": _Entry(
        _load_cifar10, ("cifar10", "cifar-10-batches-py"), (),
        "extract cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) and pass the "
        f"cifar-10-batches-py directory as --data-dir, or put it in ${ENV_VAR}"),
    "sigmoid2": _Entry(_regression_toy("sigmoid2", toys.sigmoid2)),
    "sparse": _Entry(_regression_toy("sparse", toys.sparse)),
    "blobs2d": _Entry(_load_blobs2d),
}
