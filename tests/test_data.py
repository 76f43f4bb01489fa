"""Datasets: the IDX and CIFAR-10 readers on files written here in the real formats
(and broken on purpose), the dataset registry, splits, normalisation, the lecture
toys, batching, and the real Fashion-MNIST files."""

import gzip
import math
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import descentlab.train.batches as batches
import descentlab.train.datasets as datasets
from descentlab.cli import main
from descentlab.train import cifar, idx

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
NAMES = ["blobs2d", "cifar10", "digits", "fashion-mnist", "mnist", "sigmoid2", "sparse"]


# ---- writing files in the real formats -------------------------------------

def idx_bytes(array, type_code=0x08):
    """The IDX encoding of ``array``, written from the format description, not from the reader."""
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, gz=True, type_code=0x08):
    data = idx_bytes(array, type_code)
    Path(path).write_bytes(gzip.compress(data) if gz else data)
    return Path(path)


def fake_idx_dataset(directory, n_train=100, n_test=20, gz=True, spelling="-idx", seed=0):
    """Four MNIST-style files: ``n_train`` training images, 10 classes in equal numbers."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8)}
    for stem, array in arrays.items():
        name = stem.replace("-idx", spelling) + (".gz" if gz else "")
        write_idx(directory / name, array, gz)
    return arrays


def write_cifar_batch(path, data, labels, protocol=2):
    """A batch as the CIFAR-10 python version stores it: a dict with bytes keys."""
    entries = {b"batch_label": b"testing batch", b"labels": list(map(int, labels)), b"data": data,
               b"filenames": [b"img_%d.png" % i for i in range(len(labels))]}
    Path(path).write_bytes(pickle.dumps(entries, protocol=protocol))


def fake_cifar(directory, per_batch=20):
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for name in (*cifar.TRAIN_FILES, cifar.TEST_FILE):
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        write_cifar_batch(directory / name, data, np.arange(per_batch) % 10)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    (directory / cifar.META_FILE).write_bytes(pickle.dumps({b"label_names": names}, protocol=2))


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)


# ---- IDX reader --------------------------------------------------------------

@pytest.mark.parametrize("gz", [True, False])
def test_idx_reads_gzip_and_raw(tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / ("a.gz" if gz else "a"), images, gz)
    got = idx.read(path, (None, 3, 4))
    assert got.shape == (2, 3, 4) and got.dtype == np.uint8
    np.testing.assert_array_equal(got, images)


def test_idx_decodes_big_endian_integers(tmp_path):
    values = np.array([1, -2, 70000, 2 ** 31 - 1], dtype=np.int32)
    path = write_idx(tmp_path / "ints", values, gz=False, type_code=0x0C)
    assert idx.read(path).tolist() == [1, -2, 70000, 2 ** 31 - 1]


def test_idx_missing_file_names_it_and_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothere\.gz does not exist; get it"):
        idx.read(tmp_path / "nothere.gz", hint="get it")


def test_idx_corrupt_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x1f\x00\x08\x01" + struct.pack(">I", 3) + b"abc")
    with pytest.raises(ValueError, match=r"bad is not an IDX file"):
        idx.read(path)


def test_idx_truncated_raw(tmp_path):
    data = idx_bytes(np.zeros((5, 28, 28), np.uint8))
    path = tmp_path / "cut"
    path.write_bytes(data[:-10])
    with pytest.raises(ValueError, match=r"cut is truncated"):
        idx.read(path)


def test_idx_truncated_gzip(tmp_path):
    compressed = gzip.compress(idx_bytes(np.arange(3000, dtype=np.uint16).astype(np.uint8)))
    path = tmp_path / "cut.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(ValueError, match=r"cut\.gz is not a readable gzip file"):
        idx.read(path)


def test_idx_wrong_count_and_wrong_dims(tmp_path):
    data = idx_bytes(np.zeros((3,), np.uint8))
    longer = tmp_path / "long"
    longer.write_bytes(data + b"\x00")
    with pytest.raises(ValueError, match="longer than its header says"):
        idx.read(longer)
    images = write_idx(tmp_path / "img.gz", np.zeros((2, 29, 28), np.uint8))
    with pytest.raises(ValueError, match=r"shape 2x29x28, expected Nx28x28"):
        idx.read(images, (None, 28, 28))


# ---- MNIST-style datasets from a directory ---------------------------------

@pytest.mark.parametrize("gz,spelling", [(True, "-idx"), (False, ".idx")])
def test_idx_dataset_from_data_dir(tmp_path, gz, spelling):
    arrays = fake_idx_dataset(tmp_path, gz=gz, spelling=spelling)
    ds = datasets.load("mnist", data_dir=tmp_path)
    assert ds.sizes == {"train": 80, "val": 20, "test": 20}   # 20% held out of 100 training images
    assert ds.input_shape == (1, 28, 28) and ds.num_classes == 10 and ds.task == "classification"
    assert ds.train.x.shape == (80, 1, 28, 28) and ds.train.x.dtype == torch.float32
    assert ds.train.y.dtype == torch.int64 and ds.source == str(tmp_path)
    # The test split keeps the file's order: its labels are the file's labels.
    assert ds.test.y.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()


def test_standardised_with_training_split_statistics_only(tmp_path):
    arrays = fake_idx_dataset(tmp_path)
    ds = datasets.load("mnist", data_dir=tmp_path)
    raw_test = arrays["t10k-images-idx3-ubyte"].astype(np.float64) / 255
    # The test split is an affine image of its raw pixels: recover (mean, std) from two of them.
    x = ds.test.x.double().numpy().reshape(len(raw_test), -1)
    r = raw_test.reshape(len(raw_test), -1)
    i, j = np.unravel_index(np.argmin(r), r.shape), np.unravel_index(np.argmax(r), r.shape)
    std = (r[j] - r[i]) / (x[j] - x[i])
    mean = r[i] - std * x[i]
    np.testing.assert_allclose(x * std + mean, r, atol=1e-5)
    # ... and they are the statistics of the training split's raw pixels, not of train + val.
    raw_train = ds.train.x.double().numpy() * std + mean
    np.testing.assert_allclose(np.round(raw_train * 255), raw_train * 255, atol=1e-3)
    assert raw_train.mean() == pytest.approx(mean, abs=1e-5)
    assert raw_train.std(ddof=1) == pytest.approx(std, abs=1e-5)
    raw_all = arrays["train-images-idx3-ubyte"] / 255
    assert abs(raw_all.mean() - mean) > 1e-6


def test_explicit_data_dir_never_falls_back(tmp_path, no_env):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\.gz does not exist; install it "
                                                r"with `apt-get install dataset-fashion-mnist`"):
        datasets.load("fashion-mnist", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"data directory .*nowhere does not exist"):
        datasets.load("fashion-mnist", data_dir=tmp_path / "nowhere")


def test_missing_one_file_is_named(tmp_path):
    fake_idx_dataset(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"t10k-labels-idx1-ubyte\.gz does not exist"):
        datasets.load("mnist", data_dir=tmp_path)


def test_image_and_label_counts_must_agree(tmp_path):
    fake_idx_dataset(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(19, np.uint8))
    with pytest.raises(ValueError, match=r"20 test images but 19 labels"):
        datasets.load("mnist", data_dir=tmp_path)


@pytest.mark.slow
def test_env_var_is_searched_before_the_system_copy(tmp_path, monkeypatch):
    fake_idx_dataset(tmp_path / "root" / "mnist")
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "root"))
    assert datasets.load("mnist").source == str(tmp_path / "root" / "mnist")
    # An mnist/ sub-directory never serves fashion-mnist: that falls through to the system copy.
    if FASHION_DIR.is_dir():
        assert datasets.load("fashion-mnist").source == str(FASHION_DIR)
    fake_idx_dataset(tmp_path / "flat")
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "flat"))
    assert datasets.load("fashion-mnist").sizes == {"train": 80, "val": 20, "test": 20}
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match=r"mnist: no files found in .*empty; no system copy of MNIST"):
        datasets.load("mnist")


# ---- CIFAR-10 ----------------------------------------------------------------

def test_cifar_reader_on_batches_in_the_real_format(tmp_path, no_env):
    fake_cifar(tmp_path / "cifar-10-batches-py")
    ds = datasets.load("cifar10", data_dir=tmp_path)
    assert ds.sizes == {"train": 80, "val": 20, "test": 20}
    assert ds.input_shape == (3, 32, 32) and ds.train.x.shape == (80, 3, 32, 32)
    assert ds.classes[0] == "airplane" and ds.source == str(tmp_path / "cifar-10-batches-py")


def test_cifar_pixel_layout(tmp_path):
    """A row holds 1024 red values, then green, then blue, each plane row by row."""
    red = np.tile(np.arange(32, dtype=np.uint8), 32)          # varies along the width
    green = np.repeat(np.arange(32, dtype=np.uint8), 32)      # varies along the height
    blue = np.full(1024, 200, np.uint8)
    write_cifar_batch(tmp_path / "b", np.concatenate([red, green, blue])[None], [7], protocol=3)
    images, labels = cifar.read_batch(tmp_path / "b")
    assert images.shape == (1, 3, 32, 32) and labels.tolist() == [7]
    assert images[0, 0, 5].tolist() == list(range(32))
    assert images[0, 1, :, 5].tolist() == list(range(32))
    assert (images[0, 2] == 200).all()


def test_cifar_rejects_bad_files(tmp_path):
    write_cifar_batch(tmp_path / "short", np.zeros((3, 3072), np.uint8), [1, 2])
    with pytest.raises(ValueError, match="has 2 labels for 3 images"):
        cifar.read_batch(tmp_path / "short")
    (tmp_path / "hostile").write_bytes(b"cos\nsystem\n(S'echo hi'\ntR.")
    with pytest.raises(ValueError, match=r"hostile is not a readable CIFAR-10 pickle.*refusing to load os"):
        cifar.read_batch(tmp_path / "hostile")
    fake_cifar(tmp_path / "d")
    (tmp_path / "d" / "test_batch").unlink()
    with pytest.raises(FileNotFoundError, match=r"test_batch does not exist; extract cifar-10-python"):
        datasets.load("cifar10", data_dir=tmp_path / "d")


# ---- digits: the embedded default --------------------------------------------

def test_digits_shapes_and_all_samples():
    from sklearn.datasets import load_digits

    ds = datasets.load("digits")
    assert ds.input_shape == (1, 8, 8) and ds.num_classes == 10 and ds.source == "embedded"
    assert ds.sizes == {"train": 1079, "val": 359, "test": 359}
    for split in (ds.train, ds.val, ds.test):
        assert split.x.dtype == torch.float32 and split.y.dtype == torch.int64
        assert split.x.shape[1:] == (1, 8, 8)
    labels = torch.cat([ds.train.y, ds.val.y, ds.test.y]).numpy()
    np.testing.assert_array_equal(np.bincount(labels), np.bincount(load_digits().target))


def test_splits_are_seeded_and_the_test_split_fixed():
    a, b, c = datasets.load("digits", seed=0), datasets.load("digits", seed=0), datasets.load("digits", seed=1)
    assert torch.equal(a.val.x, b.val.x) and torch.equal(a.train.y, b.train.y)
    assert not torch.equal(a.val.x, c.val.x)
    # Same test images: only the standardisation (from each seed's training split) differs.
    assert torch.equal(a.test.y, c.test.y)
    assert np.corrcoef(a.test.x.flatten().numpy(), c.test.x.flatten().numpy())[0, 1] > 1 - 1e-6


def test_splits_are_stratified():
    ds = datasets.load("digits", seed=3)
    total = np.bincount(torch.cat([ds.train.y, ds.val.y, ds.test.y]).numpy())
    for split in (ds.val, ds.test):
        share = np.bincount(split.y.numpy(), minlength=10)
        assert np.all(np.abs(share - total * len(split) / total.sum()) < 1)


def test_stratified_split_takes_each_class_share():
    labels = np.array([0] * 90 + [1] * 10)
    keep, held = datasets.stratified_split(labels, 20, seed=0)
    assert np.bincount(labels[held]).tolist() == [18, 2]
    assert sorted(np.concatenate([keep, held]).tolist()) == list(range(100))


# ---- the lecture toys --------------------------------------------------------

def test_sigmoid2_is_exactly_the_lecture_points():
    ds = datasets.load("sigmoid2")
    assert ds.task == "regression" and ds.num_classes == 1 and ds.input_shape == (1,)
    assert ds.train.x.tolist() == [[0.5], [2.5]] and ds.train.x.dtype == torch.float32
    assert ds.train.y.dtype == torch.float32
    np.testing.assert_array_equal(ds.train.y.numpy(), np.float32([[0.2], [0.9]]))


def test_sparse_has_100_pairs_with_about_80_percent_zero():
    ds = datasets.load("sparse")
    x, y = ds.train.x.numpy()[:, 0], ds.train.y.numpy()[:, 0]
    assert ds.sizes["train"] == 100 and ds.train.y.shape == (100, 1)
    assert 0.7 <= np.mean(x == 0) <= 0.9
    # The kept pairs lie on the sigmoid they were drawn from.
    kept = x != 0
    expected = [1 / (1 + math.exp(-(1.0 * v + 0.5))) for v in x[kept]]
    np.testing.assert_allclose(y[kept], expected, rtol=1e-6)


def test_blobs2d_is_two_balanced_classes_around_two_centres():
    ds = datasets.load("blobs2d")
    assert ds.input_shape == (2,) and ds.num_classes == 2
    assert ds.sizes == {"train": 768, "val": 256, "test": 256}
    x, y = ds.train.x.numpy(), ds.train.y.numpy()
    assert np.bincount(y).tolist() == [384, 384]
    np.testing.assert_allclose(x[y == 0].mean(0), [0.35, 0.35], atol=0.03)
    np.testing.assert_allclose(x[y == 1].mean(0), [0.65, 0.65], atol=0.03)


# ---- registry and the command --------------------------------------------------

def test_available_and_did_you_mean():
    assert datasets.available() == NAMES
    with pytest.raises(ValueError, match=r"unknown dataset 'fashion_mnist'; did you mean 'fashion-mnist'"):
        datasets.load("fashion_mnist")


def test_describe_says_where_or_why(tmp_path, no_env):
    rows = {r["name"]: r for r in datasets.describe(tmp_path)}
    assert sorted(rows) == NAMES
    assert rows["digits"]["available"] and rows["digits"]["sizes"]["train"] == 1079
    assert not rows["mnist"]["available"] and "train-images-idx3-ubyte.gz does not exist" in rows["mnist"]["reason"]
    assert rows["fashion-mnist"]["sizes"] is None


@pytest.mark.slow
def test_datasets_command_json(tmp_path, capsys, no_env):
    fake_idx_dataset(tmp_path / "mnist")
    assert main(["datasets", "--json", "--data-dir", str(tmp_path)]) == 0
    import json

    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["mnist"]["available"] and rows["mnist"]["source"] == str(tmp_path / "mnist")
    assert rows["mnist"]["sizes"] == {"train": 80, "val": 20, "test": 20}
    assert main(["datasets"]) == 0
    assert "digits" in capsys.readouterr().out


# ---- batching -------------------------------------------------------------------

def test_epoch_is_one_seeded_permutation():
    x, y = torch.arange(10.0)[:, None], torch.arange(10)
    generator = torch.Generator().manual_seed(7)
    got = list(batches.epoch_batches(x, y, 4, generator))
    assert [len(yb) for _, yb in got] == [4, 4, 2]
    order = torch.randperm(10, generator=torch.Generator().manual_seed(7))
    assert torch.equal(torch.cat([yb for _, yb in got]), order)
    assert all(torch.equal(xb[:, 0].long(), yb) for xb, yb in got)
    again = torch.cat([yb for _, yb in batches.epoch_batches(x, y, 4, generator)])
    assert not torch.equal(again, order) and sorted(again.tolist()) == list(range(10))


def test_full_batch_and_counts():
    x, y = torch.randn(5, 3), torch.arange(5)
    [(xb, yb)] = list(batches.epoch_batches(x, y, None, torch.Generator()))
    assert torch.equal(xb, x) and torch.equal(yb, y)
    assert batches.num_batches(60000, 128) == 469 and batches.num_batches(5, None) == 1
    assert batches.num_batches(10, 4) == 3
    for bad in (0, -1, 2.0, True, "full"):
        with pytest.raises(ValueError, match="batch size must be a positive integer"):
            batches.num_batches(10, bad)


# ---- the real Fashion-MNIST files -------------------------------------------

real_fashion = pytest.mark.skipif(not FASHION_DIR.is_dir() and not os.environ.get("CI"),
                                  reason=f"{FASHION_DIR} absent (apt-get install dataset-fashion-mnist)")


@pytest.mark.slow
@real_fashion
def test_real_fashion_mnist(no_env):
    ds = datasets.load("fashion-mnist")
    assert ds.source == str(FASHION_DIR)
    assert ds.sizes == {"train": 55000, "val": 5000, "test": 10000}
    assert ds.num_classes == 10 and ds.input_shape == (1, 28, 28)
    assert ds.train.x.shape == (55000, 1, 28, 28) and ds.test.x.shape == (10000, 1, 28, 28)
    # Fashion-MNIST has 6000 training and 1000 test images per class.
    assert np.bincount(torch.cat([ds.train.y, ds.val.y]).numpy()).tolist() == [6000] * 10
    assert np.bincount(ds.test.y.numpy()).tolist() == [1000] * 10
    assert np.bincount(ds.val.y.numpy()).tolist() == [500] * 10
    assert abs(ds.train.x.mean().item()) < 1e-4 and abs(ds.train.x.std().item() - 1) < 1e-4
    # The published training-set statistics: mean 0.2860, std 0.3530.
    assert "0.2859/0.3530" in ds.normalisation or "0.2860/0.3530" in ds.normalisation
