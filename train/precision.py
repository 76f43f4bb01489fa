"""The arithmetic a run trains in: float32, or bfloat16 autocast where the CPU has bf16 units.

``fp32``: every operation in float32. ``bf16``: the forward pass and the loss
run under ``torch.autocast(device, dtype=torch.bfloat16)`` (matrix products and
convolutions in bfloat16, reductions and the loss in float32, as autocast's
op lists say); the weights, their gradients and the optimizer's state stay
float32 (the "master weights" of mixed-precision training, Micikevicius et
al. 2018), so every optimizer's update is the float32 formula of its lecture.
bfloat16 keeps float32's exponent range, so no loss scaling is needed.
Validation and test score the float32 weights in float32.

``auto`` (the commands' default) picks bf16 on a CPU with bf16 matrix
arithmetic (AMX-BF16 or AVX512-BF16 in ``/proc/cpuinfo``) and fp32 anywhere
else: on other CPUs torch emulates bf16 (slower than float32, and it would
change the numbers for nothing). The flags are read at run time, in the
process that trains.
"""

import contextlib

PRECISIONS = ("fp32", "bf16", "auto")
BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's vector and matrix instruction sets that decide its precisions (avx2, avx512*, amx*,
    *vnni*), from ``cpuinfo``; [] where there is no such file (not Linux)."""
    try:
        with open(cpuinfo) as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return []
    return sorted({f for f in flags if f == "avx2" or f.startswith(("avx512", "amx")) or "vnni" in f})


def cpu_has_bf16(flags=None):
    """Whether the CPU computes bf16 matrix products natively (AMX-BF16 or AVX512-BF16)."""
    flags = cpu_flags() if flags is None else flags
    return any(f in flags for f in BF16_FLAGS)


def resolve(precision, device="cpu"):
    """The precision a run on ``device`` trains in: ``fp32`` or ``bf16``.

    ``auto``: bf16 on a CPU that has bf16 units, else fp32 (on a GPU too).
    ``ValueError`` (one line, before any work) for an unknown name, or for
    bf16 where the device has no bf16 arithmetic."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown training precision '{precision}' (choose from {', '.join(PRECISIONS)})")
    on_cpu = str(device).split(":")[0] == "cpu"
    if precision == "auto":
        return "bf16" if on_cpu and cpu_has_bf16() else "fp32"
    if precision == "bf16" and not _has_bf16(on_cpu):
        where = (f"this CPU has neither AMX-BF16 nor AVX512-BF16 (its flags: {' '.join(cpu_flags()) or 'unknown'})"
                 if on_cpu else f"device '{device}' does not support bf16")
        raise ValueError(f"--train-precision bf16: {where}; use fp32, or auto to pick bf16 where it runs natively")
    return precision


def _has_bf16(on_cpu):
    if on_cpu:
        return cpu_has_bf16()
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def autocast(precision, device="cpu"):
    """The context the forward pass and the loss run in: bf16 autocast, or nothing for fp32."""
    if precision != "bf16":
        return contextlib.nullcontext()
    import torch

    return torch.autocast(str(device).split(":")[0], dtype=torch.bfloat16)
