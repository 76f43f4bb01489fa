"""Is one optimizer really ahead? Paired significance tests for a comparison.

The runs of a comparison are paired: for a given seed every optimizer starts
from the same initial weights, sees the same mini-batches in the same order and
is scored on the same test set. Paired tests use that, and are far more
sensitive than comparing two means as if they came from unrelated samples.

* Several seeds: the paired t-test on the per-seed test accuracies
  (``scipy.stats.ttest_rel``): is the mean of the per-seed differences far
  from 0 given how much it varies from seed to seed?
* One seed: McNemar's exact test on the per-example predictions of the two
  models (``scipy.stats.binomtest``): of the test examples exactly one of the
  two gets right, does each get its share (half) under the hypothesis that
  both are equally good? Examples both get right, or both get wrong, say
  nothing about which model is better.

A winner is declared only when it is significantly ahead (p < ``ALPHA``) of
*every* other optimizer, the runner-up included; no multiple-comparison
correction is needed for that, since every one of the tests must reject
(an intersection-union test). Otherwise the optimizers not shown different
from the best form the group *tied* with it.
"""

import math
import warnings

import numpy as np
from scipy import stats

ALPHA = 0.05
CONFIDENCE = 0.95
SEEDS_TEST = "paired t-test over seeds"
EXAMPLES_TEST = "McNemar's exact test on per-example predictions"


def is_measured(value):
    """Whether ``value`` is a finite number: None (not measured, as a regression's
    accuracy) and NaN or Inf (a diverged run's loss) take no part in a statistic."""
    return value is not None and math.isfinite(value)


def mcnemar_p(correct_a, correct_b):
    """Exact two-sided McNemar p-value of two classifiers scored on the same examples.

    ``correct_a``, ``correct_b``: boolean arrays, one entry per test example,
    True where that model's prediction is right. Under the null hypothesis the
    examples only one model gets right split evenly between the two, so the
    count won by ``a`` is Binomial(discordant, 1/2).
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"McNemar's test needs two 1-D arrays over the same examples, got shapes "
                         f"{a.shape} and {b.shape}")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    if only_a + only_b == 0:
        return 1.0
    return float(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)


def paired_p(scores_a, scores_b):
    """Two-sided p-value of the paired t-test on per-seed scores (same seeds, same order).

    Identical scores give 1.0; a difference that is the same for every seed
    gives 0.0 (no seed-to-seed spread at all).
    """
    a, b = np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"the paired t-test needs two 1-D arrays of at least 2 paired scores, got "
                         f"shapes {a.shape} and {b.shape}")
    if np.array_equal(a, b):
        return 1.0
    with warnings.catch_warnings():  # constant differences: scipy warns, then answers p = 0
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_rel(a, b).pvalue)


def mean_ci(values, confidence=CONFIDENCE):
    """``(low, high)``: Student-t confidence interval of the mean of ``values`` (None for < 2 values)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return None
    sem = stats.sem(values)
    if sem == 0:
        return (float(values.mean()), float(values.mean()))
    low, high = stats.t.interval(confidence, len(values) - 1, loc=values.mean(), scale=sem)
    return (float(low), float(high))


def proportion_ci(correct, confidence=CONFIDENCE):
    """``(low, high)``: exact (Clopper-Pearson) interval of an accuracy from its per-example hits.

    With one seed this is the test-set noise of the accuracy: how far it could
    move on another test set of the same size.
    """
    correct = np.asarray(correct, dtype=bool)
    interval = stats.binomtest(int(correct.sum()), len(correct)).proportion_ci(confidence)
    return (float(interval.low), float(interval.high))


def ranks(values, higher_is_better=True):
    """Competition ranks ("1, 2, 2, 4"): equal values share a rank; None ranks last."""
    keyed = [(-v if higher_is_better else v) if v is not None else math.inf for v in values]
    return [int(r) for r in stats.rankdata(keyed, method="min")]


def verdict(order, per_seed, per_example=None, alpha=ALPHA):
    """Who wins, or who is tied with the best, and why.

    ``order``: names, best first. ``per_seed``: name -> {seed: score} (None
    scores are left out of the pairing). ``per_example``: name -> boolean
    array of the test examples the one-seed model got right (for McNemar).
    Returns ``{"test", "alpha", "best", "winner", "tied", "p_values",
    "reason"}``; ``winner`` is None unless the best is significantly ahead of
    every other; ``tied`` lists the best and every name not shown different
    from it; ``p_values``: name -> p against the best (None: nothing to pair).
    """
    if not order:
        return {"test": None, "alpha": alpha, "best": None, "winner": None, "tied": [],
                "p_values": {}, "reason": "no optimizer finished"}
    best, others = order[0], order[1:]
    p_values, tests = {}, set()
    for name in others:
        test, p = _pair_test(per_seed[best], per_seed[name],
                             per_example and per_example.get(best), per_example and per_example.get(name))
        p_values[name] = p
        tests.add(test)
    test = " and ".join(sorted(t for t in tests if t)) or None
    tied = [best] + [n for n in others if p_values[n] is None or p_values[n] >= alpha]
    winner = best if len(tied) == 1 else None
    result = {"test": test, "alpha": alpha, "best": best, "winner": winner, "tied": tied,
              "p_values": p_values}
    result["reason"] = _reason(result, others)
    return result


def _pair_test(seeds_a, seeds_b, examples_a, examples_b):
    common = sorted(s for s in seeds_a if s in seeds_b and seeds_a[s] is not None and seeds_b[s] is not None)
    if len(common) >= 2:
        return SEEDS_TEST, paired_p([seeds_a[s] for s in common], [seeds_b[s] for s in common])
    if examples_a is not None and examples_b is not None:
        return EXAMPLES_TEST, mcnemar_p(examples_a, examples_b)
    return None, None


def _reason(result, others):
    best, alpha, p_values = result["best"], result["alpha"], result["p_values"]
    if not others:
        return f"{best} is the only optimizer with a result, nothing to compare it with"
    if result["winner"]:
        worst = max(p_values.values())
        return f"{best} is ahead of every other optimizer ({result['test']}, every p ≤ {format_p(worst)} < {alpha:g})"
    untested = [n for n in others if p_values[n] is None]
    close = [n for n in result["tied"][1:] if p_values[n] is not None]
    parts = []
    if close:
        parts.append(f"{best} is not significantly ahead of " + ", ".join(
            f"{n} (p = {format_p(p_values[n])})" for n in close) + f" ({result['test']}, p ≥ {alpha:g})")
    if untested:
        parts.append(f"nothing to test {best} against {', '.join(untested)} with "
                     "(one seed and no per-example predictions)")
    return "; ".join(parts)


def format_p(p):
    """A p-value as the report prints it: two significant digits, or 1e-05 style when tiny."""
    return "-" if p is None else f"{p:.2g}" if p >= 1e-3 else f"{p:.0e}"
