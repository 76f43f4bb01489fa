"""What every benchmark's JSON says about the machine it ran on.

The CPUs under machines of this kind differ (AVX2 only on some, AVX-512 with
VNNI, BF16 and AMX on others) and timings are noisy when other work runs, so a
number is only comparable with the CPU, its flags and the load beside it.
"""

import os
import platform


def cpu_name(cpuinfo="/proc/cpuinfo"):
    """The CPU's model name (``/proc/cpuinfo``), or what ``platform`` knows elsewhere."""
    try:
        with open(cpuinfo) as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def describe():
    """The CPU's name and flags (``infer.devices.cpu_flags``), the cores this process may
    use, the 1-minute load average now, and the Python and torch versions."""
    import torch

    from descentlab.infer.devices import cpu_flags
    from descentlab.train.distributed import cpu_cores

    cores = cpu_cores()
    return {"cpu": cpu_name(), "cpu_flags": cpu_flags(), "cores": len(cores) if cores else os.cpu_count(),
            "load_average": os.getloadavg()[0], "python": platform.python_version(), "torch": torch.__version__}
