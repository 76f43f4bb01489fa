"""Read IDX files, the format of MNIST and Fashion-MNIST (gzip-compressed or raw).

An IDX file is a big-endian header followed by the array, row-major::

    0x00 0x00 <type code> <number of dims>   magic number
    <dim 0> <dim 1> ...                       one uint32 per dimension
    data                                      prod(dims) items of the type

Reference: LeCun, Cortes, Burges, "The MNIST database"
(http://yann.lecun.com/exdb/mnist/, section "file formats"). Fashion-MNIST
(Xiao et al. 2017) ships the same four files in the same format.

Every problem (missing file, bad magic number, wrong dimensions, a header
count the data does not match, a truncated or corrupt gzip stream) raises one
``FileNotFoundError``/``ValueError`` whose message names the file and ends
with ``hint`` (how to get a good copy). Decoding is one ``numpy.frombuffer``:
the 60000 Fashion-MNIST training images read in a fraction of a second.
"""

import gzip
import zlib
from pathlib import Path

import numpy as np

# The type codes of the IDX format and the big-endian numpy dtypes they name.
DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read(path, dims=None, hint=""):
    """The array stored in the IDX file ``path`` (``.gz`` is decompressed).

    ``dims`` checks the shape: a tuple with ``None`` where any size is allowed,
    e.g. ``(None, 28, 28)`` for an image file. The result is a native-endian
    numpy array (no copy for single-byte types).
    """
    path = Path(path)
    data = _read_bytes(path, hint)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in DTYPES:
        raise ValueError(problem(path, f"is not an IDX file (magic number {data[:4].hex() or 'missing'})",
                                  hint))
    dtype, ndim = np.dtype(DTYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(problem(path, "is truncated inside its header", hint))
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    if dims is not None and (len(shape) != len(dims)
                             or any(want is not None and got != want for got, want in zip(shape, dims))):
        expected = "x".join("N" if d is None else str(d) for d in dims)
        raise ValueError(problem(path, f"holds an array of shape {'x'.join(map(str, shape))}, "
                                        f"expected {expected}", hint))
    expected_bytes = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected_bytes:
        kind = "truncated" if len(data) < expected_bytes else "longer than its header says"
        raise ValueError(problem(path, f"is {kind}: {len(data) - header} data bytes for a "
                                        f"{'x'.join(map(str, shape))} array of {dtype.itemsize}-byte items",
                                  hint))
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array if dtype.itemsize == 1 else array.astype(dtype.newbyteorder("="))


def _read_bytes(path, hint):
    if not path.is_file():
        raise FileNotFoundError(problem(path, "does not exist", hint))
    raw = path.read_bytes()
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError; a cut stream is EOFError
        raise ValueError(problem(path, f"is not a readable gzip file ({exc})", hint)) from None


def problem(path, what, hint):
    """One line naming the file, what is wrong with it and (``hint``) how to get a good copy."""
    return f"{path} {what}" + (f"; {hint}" if hint else "")
