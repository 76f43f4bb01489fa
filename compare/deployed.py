"""A deployed model against its PyTorch original: how far its test accuracy moved, and
whether that is more than test-set noise.

The IR and the PyTorch model it came from are scored on the same test examples,
so the comparison is paired: McNemar's exact test on the per-example
predictions (``stats.mcnemar_p``). Only the examples the two disagree on count:
``flips`` says how many PyTorch got right and the IR got wrong
(``right_to_wrong``) and the reverse (``wrong_to_right``). The difference is
*within noise* when p >= ``stats.ALPHA``: that many flips, split that way, is
what chance alone gives. Rounding (bf16, f16, int8) moves a few examples near
the decision boundary both ways; a real loss of accuracy moves them one way.
"""

import numpy as np

from descentlab.compare.stats import ALPHA, mcnemar_p


def versus_torch(torch_correct, correct):
    """``{"mcnemar_p", "within_noise", "flips"}`` of one IR against PyTorch.

    ``torch_correct``, ``correct``: boolean arrays over the same test examples,
    True where PyTorch's (the IR's) prediction is right. All None when either
    is missing (regression has no per-example hits).
    """
    if torch_correct is None or correct is None:
        return {"mcnemar_p": None, "within_noise": None, "flips": None}
    torch_right, right = np.asarray(torch_correct, dtype=bool), np.asarray(correct, dtype=bool)
    p = mcnemar_p(torch_right, right)
    return {"mcnemar_p": p, "within_noise": p >= ALPHA,
            "flips": {"right_to_wrong": int(np.sum(torch_right & ~right)),
                      "wrong_to_right": int(np.sum(~torch_right & right))}}


def annotate(result):
    """``infer.evaluate_path``'s result with ``versus_torch`` in every entry, its numpy arrays dropped."""
    correct = result.pop("correct")
    for run, entries in result["runs"].items():
        for precision, entry in entries.items():
            entry.update(versus_torch(correct[run]["torch"], correct[run][precision]))
    return result


def summary(entries):
    """One precision over an optimizer's runs (their ``deploy`` entries): the mean difference from
    PyTorch, how many runs stayed within noise of it, and what the device computed in."""
    deltas = [e["delta_vs_torch"] for e in entries if e.get("delta_vs_torch") is not None]
    tested = [e["within_noise"] for e in entries if e.get("within_noise") is not None]
    return {"delta_vs_torch_mean": sum(deltas) / len(deltas) if deltas else None,
            "within_noise_runs": sum(tested), "tested_runs": len(tested),
            "runs_in": sorted({e["runs_in"] for e in entries if e.get("runs_in")}),
            "same_as_fp32": bool(entries) and all(e.get("same_as_fp32") for e in entries)}


def precision_label(results, precision):
    """``NATIVE (bf16 on CPU)``: the precision's name and, for native and bf16, what it computed in."""
    if precision not in ("native", "bf16"):
        return precision.upper()
    ran = sorted({x for r in results["summary"] for x in r["openvino"].get(precision, {}).get("runs_in", [])})
    return f"{precision.upper()} ({'; '.join(ran)})" if ran else precision.upper()
