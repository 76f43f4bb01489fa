"""`--spread-from DIR`: a comparison's seeds pooled with an earlier comparison's seeds of the
same setting, checked against the paired t-test worked out by hand (Student t with 3 degrees of
freedom in closed form) and against scipy; refused, before any training, for another setting."""

import dataclasses
import json
import math

import pytest
from scipy import stats as scipy_stats

from descentlab import io
from descentlab.cli import main
from descentlab.compare import earlier, report
from descentlab.compare.settings import CompareConfig
from descentlab.compare.summary import summarise
from descentlab.errors import UserError
from test_compare import TEST_SIZE, fake_run, hits

# Test images each optimizer gets wrong, per seed (nested sets: McNemar's discordant pairs are the difference).
WRONG = {"adam": {0: 10, 1: 12, 2: 9, 3: 11}, "sgd": {0: 14, 1: 15, 2: 15, 3: 13}}
EARLIER = CompareConfig(optimizers=("adam", "sgd"), seeds=(0, 1, 2), epochs=3, precisions=(),
                        train_precision="fp32")


def records(seeds):
    return [fake_run(name, seed, hits(range(WRONG[name][seed]))) for seed in seeds for name in WRONG]


@pytest.fixture
def before(tmp_path):
    """A finished comparison of seeds 0, 1, 2 (its compare.json and results.json)."""
    directory = tmp_path / "before"
    io.write_json(directory / "compare.json", dataclasses.asdict(EARLIER))
    io.write_json(directory / "results.json", summarise(EARLIER, records(EARLIER.seeds)))
    return directory


def t3_two_sided_p(t):
    """P(|T| >= |t|) for Student's t with 3 degrees of freedom, from its closed-form CDF
    F(t) = 1/2 + (t / (sqrt 3 (1 + t^2/3)) + atan(t / sqrt 3)) / pi."""
    t = abs(t)
    cdf = 0.5 + (t / (math.sqrt(3) * (1 + t * t / 3)) + math.atan(t / math.sqrt(3))) / math.pi
    return 2 * (1 - cdf)


def test_one_new_seed_pooled_with_three_earlier_ones_by_hand(before):
    new = dataclasses.replace(EARLIER, seeds=(3,), spread_from=str(before))
    earlier.check(new)
    alone = summarise(dataclasses.replace(new, spread_from=None), records([3]))["significance"]
    assert alone["winner"] is None and alone["p_values"]["sgd"] == pytest.approx(0.5)   # 0 vs 2 images: McNemar

    pooled = summarise(new, records([3]))["significance"]
    # per-seed differences in images: 4, 3, 6, 2 -> mean 3.75, sd sqrt(8.75 / 3), t = mean / (sd / sqrt 4)
    t = 3.75 / (math.sqrt(8.75 / 3) / 2)
    assert pooled["p_values"]["sgd"] == pytest.approx(t3_two_sided_p(t), rel=1e-9)
    accuracy = {n: [1 - WRONG[n][s] / TEST_SIZE for s in range(4)] for n in WRONG}
    assert pooled["p_values"]["sgd"] == pytest.approx(
        scipy_stats.ttest_rel(accuracy["adam"], accuracy["sgd"]).pvalue, rel=1e-9)
    assert pooled["p_values"]["sgd"] < 0.05 and pooled["winner"] == "adam" and pooled["one_seed"] == []
    assert pooled["pooled"]["earlier_seeds"] == [0, 1, 2] and pooled["pooled"]["seeds"] == [3]
    assert pooled["pooled"]["means"]["adam"] == pytest.approx(sum(accuracy["adam"]) / 4)


def test_pooling_gives_the_verdict_of_one_comparison_over_every_seed(before):
    """Worst first on the new seed, best over all: the pooled order is that of all seeds."""
    WRONG_NEW = {"adam": 16, "sgd": 13}         # on seed 3 alone sgd is ahead
    new_runs = [fake_run(n, 3, hits(range(WRONG_NEW[n]))) for n in WRONG_NEW]
    new = dataclasses.replace(EARLIER, seeds=(3,), spread_from=str(before))
    pooled = summarise(new, new_runs)
    everything = summarise(dataclasses.replace(EARLIER, seeds=(0, 1, 2, 3)), records([0, 1, 2]) + new_runs)
    assert pooled["summary"][0]["optimizer"] == "sgd"                      # the table: this comparison's seed
    for key in ("best", "winner", "tied", "p_values", "test"):
        assert pooled["significance"][key] == everything["significance"][key], key
    assert pooled["significance"]["best"] == "adam"
    text = report.headline(pooled)
    assert "over seeds 0, 1, 2 (" in text and ") and 3 (this comparison)" in text
    assert "**adam**" in text and "One seed" not in text


def test_another_setting_or_the_same_seeds_are_refused(before, tmp_path):
    new = dataclasses.replace(EARLIER, seeds=(3,), spread_from=str(before))
    with pytest.raises(UserError, match=r"another setting \(epochs 3 there, 4 here\)"):
        earlier.check(dataclasses.replace(new, epochs=4))
    with pytest.raises(UserError, match=r"batch size 32 there, full here"):
        earlier.check(dataclasses.replace(new, batch_size=None))
    with pytest.raises(UserError, match="seeds 1, 2 are in that comparison already"):
        earlier.check(dataclasses.replace(new, seeds=(1, 2, 7)))
    with pytest.raises(UserError, match="learning-rate search"):
        earlier.check(dataclasses.replace(new, tune_lr=True))
    with pytest.raises(UserError, match="no finished comparison there"):
        earlier.check(dataclasses.replace(new, spread_from=str(tmp_path / "nowhere")))
    one = tmp_path / "one"
    io.write_json(one / "compare.json", dataclasses.asdict(dataclasses.replace(EARLIER, seeds=(0,))))
    io.write_json(one / "results.json", summarise(dataclasses.replace(EARLIER, seeds=(0,)), records([0])))
    with pytest.raises(UserError, match="has 1 seed; the seed-to-seed spread needs two or more"):
        earlier.check(dataclasses.replace(new, spread_from=str(one)))
    bf16 = json.loads((before / "results.json").read_text())
    for run in bf16["runs"]:
        run["train_precision"] = "bf16"
    io.write_json(before / "results.json", bf16)
    with pytest.raises(UserError, match="training precision bf16 there, fp32 here"):
        earlier.check(new)


@pytest.mark.slow
def test_the_command_pools_and_says_so(tmp_path):
    base = ["compare", "--model", "logreg", "--optimizers", "sgd,adam", "--epochs", "1", "--precisions", "none",
            "--workers", "1", "--train-precision", "fp32", "--quiet"]
    assert main([*base, "--seeds", "0,1", "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--seeds", "2", "--spread-from", str(tmp_path / "a"), "--out", str(tmp_path / "b")]) == 0
    a, b = (json.loads((tmp_path / d / "results.json").read_text()) for d in "ab")
    config = CompareConfig(model="logreg", optimizers=("sgd", "adam"), epochs=1, seeds=(0, 1, 2), precisions=())
    every_seed = summarise(config, a["runs"] + b["runs"])["significance"]
    assert b["spread_from"] == str(tmp_path / "a") and b["seeds"] == [2] and b["train_precision"] == "fp32"
    assert b["significance"]["test"] == "paired t-test over seeds"
    assert b["significance"]["p_values"] == pytest.approx(every_seed["p_values"], rel=1e-12)
    assert b["significance"]["best"] == every_seed["best"]
    assert "pool seeds 0, 1 (" in (tmp_path / "b" / "report.md").read_text()
