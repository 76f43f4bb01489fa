"""The significance tests of descentlab.compare.stats against values worked out by hand
(closed forms of the binomial and Student-t distributions), not against scipy's own output."""

import math

import numpy as np
import pytest

from descentlab.compare import stats


def examples(both, only_a, only_b, neither):
    """Two per-example correctness arrays with the given counts of each agreement pattern."""
    a = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    return np.array(a), np.array(b)


def test_mcnemar_exact_p_by_hand():
    # 1 vs 9 discordant examples: p = 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * (1 + 10) / 1024
    a, b = examples(300, 1, 9, 49)
    assert stats.mcnemar_p(a, b) == pytest.approx(22 / 1024, rel=1e-12)
    assert stats.mcnemar_p(b, a) == pytest.approx(22 / 1024, rel=1e-12)
    # 0 vs 6: 2 / 64
    assert stats.mcnemar_p(*examples(10, 0, 6, 0)) == pytest.approx(2 / 64, rel=1e-12)


def test_mcnemar_ignores_examples_both_get_right_or_wrong():
    few = stats.mcnemar_p(*examples(0, 2, 5, 0))
    many = stats.mcnemar_p(*examples(5000, 2, 5, 700))
    assert few == many
    assert stats.mcnemar_p(*examples(100, 4, 4, 3)) == 1.0
    assert stats.mcnemar_p(*examples(100, 0, 0, 3)) == 1.0


def test_mcnemar_needs_the_same_examples():
    with pytest.raises(ValueError, match="same examples"):
        stats.mcnemar_p([True, False], [True])


def test_paired_t_test_by_hand():
    # differences 0.01, 0.02, 0.03: t = 0.02 / (0.01 / sqrt 3) = 2 sqrt 3, 2 degrees of freedom,
    # where the t CDF is 1/2 + t / (2 sqrt(t^2 + 2)), so p = 1 - t / sqrt(t^2 + 2)
    t = 2 * math.sqrt(3)
    p = stats.paired_p([0.91, 0.92, 0.93], [0.90, 0.90, 0.90])
    assert p == pytest.approx(1 - t / math.sqrt(t * t + 2), rel=1e-9)


def test_paired_t_test_pairs_by_seed():
    # the same numbers unpaired would be far apart; pairing removes the seed-to-seed spread
    a = [0.80, 0.90, 0.95]
    b = [0.79, 0.885, 0.94]
    assert stats.paired_p(a, b) < 0.05
    assert stats.paired_p(a, list(reversed(b))) > 0.5


def test_paired_t_test_edge_cases():
    assert stats.paired_p([0.9, 0.8], [0.9, 0.8]) == 1.0
    assert stats.paired_p([0.91, 0.81], [0.9, 0.8]) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="at least 2"):
        stats.paired_p([0.9], [0.8])


def test_mean_ci_by_hand():
    # t(0.975, 2 dof) = 4.302652729911275 (Student-t table); s = 0.01
    low, high = stats.mean_ci([0.90, 0.91, 0.92])
    half = 4.302652729911275 * 0.01 / math.sqrt(3)
    assert (low, high) == pytest.approx((0.91 - half, 0.91 + half), rel=1e-9)
    assert stats.mean_ci([0.9]) is None
    assert stats.mean_ci([0.5, 0.5, 0.5]) == (0.5, 0.5)


def test_proportion_ci_clopper_pearson_by_hand():
    # 0 of 10 right: the upper bound solves (1 - p)^10 = 0.025
    low, high = stats.proportion_ci([False] * 10)
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** 0.1, rel=1e-9)
    # 10 of 10: mirror image
    low, high = stats.proportion_ci([True] * 10)
    assert high == 1.0 and low == pytest.approx(0.025 ** 0.1, rel=1e-9)


def test_ranks_share_ties():
    assert stats.ranks([0.9304, 0.9666, 0.9304, 0.9304, 0.9]) == [2, 1, 2, 2, 5]
    assert stats.ranks([0.2, 0.1, None], higher_is_better=False) == [2, 1, 3]


def test_verdict_declares_a_winner_only_when_ahead_of_everyone():
    per_seed = {"a": {0: 0.95, 1: 0.96, 2: 0.97},
                "b": {0: 0.90, 1: 0.905, 2: 0.91},
                "c": {0: 0.80, 1: 0.81, 2: 0.83}}
    v = stats.verdict(["a", "b", "c"], per_seed)
    assert v["winner"] == "a" and v["tied"] == ["a"] and v["test"] == stats.SEEDS_TEST
    assert all(p < 0.05 for p in v["p_values"].values())


def test_verdict_names_the_tied_group_and_why():
    per_seed = {"a": {0: 0.95, 1: 0.90, 2: 0.97},
                "b": {0: 0.96, 1: 0.89, 2: 0.94},    # ahead on seed 0, behind on 1 and 2
                "c": {0: 0.50, 1: 0.51, 2: 0.52}}
    v = stats.verdict(["a", "b", "c"], per_seed)
    assert v["winner"] is None and v["tied"] == ["a", "b"]
    assert "not significantly ahead of b" in v["reason"] and "paired t-test" in v["reason"]


def test_verdict_with_one_seed_uses_mcnemar():
    a, b, c = np.zeros((3, 100), dtype=bool)
    a[:90] = True
    b[:87] = b[90] = True      # 3 examples only a gets, 1 only b gets: p = 2 * (1 + 4) / 16
    c[:50] = True              # 40 only a gets, none only c gets: p = 2 / 2^40
    per_seed = {"a": {0: a.mean()}, "b": {0: b.mean()}, "c": {0: c.mean()}}
    v = stats.verdict(["a", "b", "c"], per_seed, {"a": a, "b": b, "c": c})
    assert v["test"] == stats.EXAMPLES_TEST
    assert v["p_values"]["b"] == pytest.approx(0.625)
    assert v["p_values"]["c"] == pytest.approx(2 / 2 ** 40)
    assert v["winner"] is None and v["tied"] == ["a", "b"]
    assert v["one_seed"] == ["b", "c"] and "--seeds 0,1,2" in v["advice"]


def test_one_seed_never_names_a_winner_however_far_ahead():
    """McNemar compares two networks on the test images; the seed-to-seed spread it cannot
    see is larger, so one seed ranks networks, not optimizers."""
    a, b = np.zeros((2, 100), dtype=bool)
    a[:95] = True
    b[:40] = True                                           # 55 only a gets, none only b: p = 2 / 2^55
    v = stats.verdict(["a", "b"], {"a": {0: 0.95}, "b": {0: 0.40}}, {"a": a, "b": b})
    assert v["p_values"]["b"] == pytest.approx(2 / 2 ** 55)
    assert v["winner"] is None and v["tied"] == ["a"] and v["one_seed"] == ["b"]
    assert "a's network differs beyond test-set noise from b's" in v["reason"]
    assert "not the optimizers" in v["reason"]


def test_a_pair_on_one_seed_keeps_the_winner_unnamed_even_when_the_others_have_seeds():
    """Mixed: b has three seeds and is clearly behind, c has one (its other runs missing):
    the verdict over seeds cannot reach c, so no winner."""
    c_hits = np.zeros(100, dtype=bool)
    per_seed = {"a": {0: 0.95, 1: 0.96, 2: 0.97}, "b": {0: 0.80, 1: 0.81, 2: 0.83}, "c": {0: 0.10}}
    v = stats.verdict(["a", "b", "c"], per_seed, {"a": np.ones(100, dtype=bool), "b": np.ones(100, dtype=bool),
                                                  "c": c_hits})
    assert v["p_values"]["b"] < 0.05 and v["p_values"]["c"] < 0.05
    assert v["winner"] is None and v["one_seed"] == ["c"]
    assert "one seed for c" in v["reason"]


def test_verdict_without_anything_to_pair_calls_it_a_tie():
    v = stats.verdict(["a", "b"], {"a": {0: 0.9}, "b": {0: 0.8}})
    assert v["winner"] is None and v["tied"] == ["a", "b"] and v["p_values"] == {"b": None}
    assert "nothing to test" in v["reason"]
