"""Earlier seeds of the same setting (``--spread-from DIR``): a comparison with too few
seeds of its own judged together with the seeds an earlier comparison trained.

One seed cannot rank optimizers: McNemar's test on its two networks says
nothing about how much a result moves from seed to seed (``stats``). When an
earlier comparison of the *same setting* (dataset, model and its options,
the user's optimizer files, epochs, batch size, learning rates, schedule,
clipping, training precision)
trained other seeds, its runs and this comparison's are draws of the same
experiment, and the sound test pools them: the paired t-test over every seed,
earlier and new (k + 1 seeds, k degrees of freedom). Its verdict is exactly
that of one comparison over all those seeds.

The other way to use the earlier spread, a t-test of the one new paired
difference against the earlier seeds' standard deviation (k - 1 degrees of
freedom), is valid too but throws the earlier seeds' differences away as
evidence: with the same setting it has less power for no gain in validity.
Pooling needs what this module checks before any training: the same setting,
and seeds the earlier comparison does not hold (the same seed of the same
setting is the same run again, not a new draw). A learning-rate search
(``--tune-lr``) picks its rates from the seeds it ran, so its comparisons are
not pooled.
"""

import json
from pathlib import Path

from descentlab.errors import UserError
from descentlab.train import precision

# The settings that decide what a run trains: two comparisons agreeing on all of them
# (and on the training precision they resolved to) train draws of the same experiment.
SETTING = ("dataset", "model", "model_kwargs", "optimizer_files", "epochs", "batch_size", "lr", "schedule",
           "schedule_kwargs", "clip_norm")


def check(config):
    """``UserError`` (one line) unless ``config.spread_from`` holds a finished comparison of the
    same setting as ``config``, with two seeds or more, none of them among ``config.seeds``."""
    settings, results = _read(config.spread_from)
    where = f"--spread-from {config.spread_from}"
    if config.tune_lr or settings.get("tune_lr"):
        raise UserError(f"{where}: a learning-rate search (--tune-lr) picks its rates from the seeds it ran, "
                        "so its comparisons are not pooled; give the learning rates with --lr instead")
    ours = {**json.loads(json.dumps({k: getattr(config, k) for k in SETTING})),
            "training precision": precision.resolve(config.train_precision, config.train_device)}
    theirs = {**{k: settings.get(k) for k in SETTING}, "training precision": trained_in(results["runs"])}
    differ = [f"{k.replace('_', ' ')} {_show(k, theirs[k])} there, {_show(k, ours[k])} here" for k in ours
              if theirs[k] != ours[k]]
    if differ:
        raise UserError(f"{where}: that comparison has another setting ({'; '.join(differ)}); "
                        "only seeds of the same setting measure this one's spread")
    seeds = seeds_of(results)
    if len(seeds) < 2:
        raise UserError(f"{where}: that comparison has {len(seeds)} seed; the seed-to-seed spread needs two or more")
    both = sorted(set(seeds) & set(config.seeds))
    if both:
        many = len(both) > 1
        raise UserError(f"{where}: seed{'s' if many else ''} {', '.join(map(str, both))} "
                        f"{'are' if many else 'is'} in that comparison already (it holds "
                        f"seeds {', '.join(map(str, seeds))}): the same seed of the same setting is the same "
                        "run again; choose other --seeds")


def scores(directory, key):
    """``(seeds, {optimizer: {seed: score}})`` of the earlier comparison in ``directory``:
    ``key`` is ``"test_accuracy"`` (classification) or ``"test_loss"``."""
    _, results = _read(directory)
    per_seed = {}
    for run in results["runs"]:
        per_seed.setdefault(run["optimizer"], {})[run["seed"]] = run["torch"][key]
    return seeds_of(results), per_seed


def trained_in(runs):
    """The training precision of a comparison's runs: "fp32", "bf16", or "mixed: bf16, fp32"
    (a comparison resumed on another CPU). Runs from before ``--train-precision`` trained in fp32."""
    found = sorted({run.get("train_precision", "fp32") for run in runs})
    return found[0] if len(found) == 1 else "mixed: " + ", ".join(found)


def seeds_of(results):
    return sorted({run["seed"] for run in results["runs"]})


def _read(directory):
    directory = Path(directory)
    files = directory / "compare.json", directory / "results.json"
    for path in files:
        if not path.is_file():
            raise UserError(f"--spread-from {directory}: no finished comparison there (no {path.name})")
    try:
        return tuple(json.loads(path.read_text()) for path in files)
    except ValueError:
        raise UserError(f"--spread-from {directory}: its compare.json or results.json is not readable JSON") from None


def _show(setting, value):
    if value is None:
        return "full" if setting == "batch_size" else "none"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
