"""The settings of a comparison, importable without torch (the CLI builds its
``--help`` from these defaults)."""

from dataclasses import dataclass, field

# How each run is deployed on OpenVINO (infer/precision.py): fp32, fp16 and int8 are the
# IR files run in pinned f32; native is the FP32 IR in the device's own default precision (bf16 on
# CPUs with AVX512-BF16, f16 on GPUs); bf16 only where the device has it, so not by default.
PRECISIONS = ("fp32", "native", "bf16", "fp16", "int8")
DEFAULT_PRECISIONS = ("fp32", "native", "fp16", "int8")


@dataclass(frozen=True)
class CompareConfig:
    dataset: str = "digits"
    model: str = "mlp"
    model_kwargs: dict = field(default_factory=dict)
    optimizers: tuple = ()               # () = every registry entry
    optimizer_files: dict = field(default_factory=dict)   # name -> "FILE.py:Class", a user's optimizer
    epochs: int = 15
    batch_size: int = 32                 # None: full batch
    seeds: tuple = (0, 1, 2)
    lr: dict = field(default_factory=dict)   # name -> lr override
    tune_lr: bool = False
    tune_epochs: int = 3
    schedule: str = None
    schedule_kwargs: dict = field(default_factory=dict)
    clip_norm: float = None
    device: str = "CPU"                  # OpenVINO device that scores the exported models
    train_device: str = "cpu"            # torch device that trains them: cpu or cuda
    train_precision: str = "auto"        # fp32, bf16 or auto: bf16 where the CPU has bf16 units (train/precision.py)
    precisions: tuple = DEFAULT_PRECISIONS
    max_accuracy_drop: float = None      # NNCF accuracy control for every INT8 run (0.01 = 1 point)
    data_dir: str = None
    workers: int = None                  # processes training runs at once; None: automatic (pool.worker_count)
    target_accuracy: float = None        # None: chosen from the results (see report)
    spread_from: str = None              # an earlier comparison of the same setting whose seeds are pooled (earlier.py)

    def register_files(self):
        """Make the user's optimizer classes known in this process (``optimizers.registry.register_file``)."""
        from descentlab.optimizers import registry

        for name, reference in self.optimizer_files.items():
            registry.register_file(reference, name=name)

    @property
    def names(self):
        from descentlab import optimizers

        return tuple(self.optimizers) or tuple(optimizers.available())

    def run_config(self, name, seed, lr=None, epochs=None):
        from descentlab.train.hparams import training_hparams
        from descentlab.train.run import RunConfig

        self.register_files()
        hparams = training_hparams(name, {"lr": lr} if lr is not None else None)
        return RunConfig(dataset=self.dataset, model=self.model, optimizer=name, hparams=hparams,
                         optimizer_file=self.optimizer_files.get(name),
                         epochs=epochs or self.epochs, batch_size=self.batch_size, seed=seed,
                         model_kwargs=dict(self.model_kwargs), schedule=self.schedule,
                         schedule_kwargs=dict(self.schedule_kwargs), clip_norm=self.clip_norm,
                         data_dir=self.data_dir, device=self.train_device, precision=self.train_precision)
