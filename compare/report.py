"""report.md and report.html: who wins, by how much, how fast — then the tables and plots.

report.html is report.md's text as one self-contained web page (``webpage``)."""

import datetime
import math

from descentlab import io
from descentlab.compare import deployed, plots, webpage
from descentlab.compare.stats import ALPHA, format_p


def default_target(summary):
    """Target accuracy for "epochs to reach": 98 % of the winner's mean test
    accuracy, rounded down to a whole percent (None for regression)."""
    best = [r["test_accuracy_mean"] for r in summary if r["test_accuracy_mean"] is not None]
    return math.floor(98 * max(best)) / 100 if best else None


def _pm(mean, std, digits=4):
    if mean is None:
        return "-"
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if std else f"{mean:.{digits}f}"


def _num(value, fmt):
    """``value`` formatted, "-" for None; a whole number (epoch counts) shown without decimals."""
    if value is None:
        return "-"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return format(value, fmt)


def _ci(row):
    ci = row.get("test_accuracy_ci")
    return "-" if not ci else f"[{ci[0]:.4f}, {ci[1]:.4f}]"


def headline(results):
    """One paragraph: the winner (only when significantly ahead) or the group tied with the best,
    the test that decided it, and the fastest to the target."""
    rows = [r for r in results["summary"] if r["test_accuracy_mean"] is not None]
    verdict = results["significance"]
    classified = bool(rows)
    if not classified:
        rows = [r for r in results["summary"] if r["test_loss_mean"] is not None]
        if not rows:
            return "No run finished with a finite loss."
    best = next((r for r in rows if r["optimizer"] == verdict["best"]), rows[0])
    pooled = verdict.get("pooled")
    score = (f"{pooled['means'][best['optimizer']]:.4f} mean test accuracy over {_seed_list(pooled)}" if pooled
             else f"{_pm(best['test_accuracy_mean'], best['test_accuracy_std'])} test accuracy")
    if not classified:
        text = f"**{best['optimizer']}** reaches the lowest test loss, {best['test_loss_mean']:.4g}"
    elif verdict["winner"]:
        text = f"**{best['optimizer']}** wins with {score}"
        if len(rows) > 1 and not pooled:
            gap = 100 * (best["test_accuracy_mean"] - rows[1]["test_accuracy_mean"])
            text += f", {gap:.2f} points ahead of {rows[1]['optimizer']}"
    elif one_seed_only(verdict):
        text = f"One seed names no winner: **{best['optimizer']}** has the highest test accuracy ({score})"
    else:
        text = (f"No single winner: {', '.join(f'**{n}**' for n in verdict['tied'])} are statistically tied "
                f"for the best test accuracy ({best['optimizer']}: {score})")
    text += f". Why: {verdict['reason']}." if verdict["reason"] else "."
    if verdict.get("advice"):
        text += f" {verdict['advice'][0].upper()}{verdict['advice'][1:]}."
    target = results["target_accuracy"]
    reached = [r for r in rows if r.get("epochs_to_target") is not None]
    if target is not None and reached:
        fastest = min(reached, key=lambda r: (r["epochs_to_target"], -r["test_accuracy_mean"]))
        text += (f" Fastest to {100 * target:.0f} % validation accuracy: **{fastest['optimizer']}** "
                 f"({_num(fastest['epochs_to_target'], '.1f')} epoch{'' if fastest['epochs_to_target'] == 1 else 's'})")
        if fastest["test_accuracy_mean"] < target:
            text += (f", which does not stay there: its final test accuracy is "
                     f"{fastest['test_accuracy_mean']:.4f} (best epoch {_num(fastest['best_epoch'], '.1f')})")
        text += f"; {len(reached)} of {len(rows)} optimizers get there."
    diverged = [r["optimizer"] for r in results["summary"] if r["diverged_runs"]]
    if diverged:
        text += f" Diverged: {', '.join(diverged)}."
    return text


def one_seed_only(verdict):
    """Whether every comparison with the best rests on one seed (McNemar on two networks)."""
    return bool(verdict.get("p_values")) and set(verdict.get("one_seed", [])) == set(verdict["p_values"])


def _seed_list(pooled):
    """"seeds 0, 1, 2 (runs/earlier) and 3 (this comparison)": the seeds a pooled verdict rests on."""
    return (f"seeds {', '.join(map(str, pooled['earlier_seeds']))} ({pooled['from']}) and "
            f"{', '.join(map(str, pooled['seeds']))} (this comparison)")


def torch_table(results):
    target = results["target_accuracy"]
    to = f"epochs to {100 * target:.0f} %" if target is not None else "epochs to target"
    lines = [f"| rank | optimizer | lr | test accuracy | 95 % interval | p vs best | test loss | best epoch "
             f"| {to} | s / epoch | diverged |",
             "|---:|---|---:|---|---|---:|---|---:|---:|---:|---|"]
    verdict = results["significance"]
    for r in results["summary"]:
        diverged = f"{r['diverged_runs']}/{r['runs']}" if r["diverged_runs"] else "no"
        tied = ""
        if r["tied_with_best"] and len(verdict["tied"]) > 1:
            # one seed: a network within test-set noise of the best's, not a tie of optimizers
            tied = (" (within noise)" if r["optimizer"] in verdict.get("one_seed", ())
                    else "" if one_seed_only(verdict) else " (tied)")
        lines.append(f"| {r['rank']} | {shown(results, r['optimizer'])}{tied} | {_num(r['lr'], '.3g')} | "
                     f"{_pm(r['test_accuracy_mean'], r['test_accuracy_std'])} | {_ci(r)} | "
                     f"{format_p(r['p_vs_best'])} | {_pm(r['test_loss_mean'], r['test_loss_std'])} | "
                     f"{_num(r['best_epoch'], '.1f')} | {_num(r['epochs_to_target'], '.1f')} | "
                     f"{_num(r['seconds_per_epoch'], '.3f')} | {diverged} |")
    return "\n".join(lines)


def significance_note(results):
    """How the verdict was reached, in words a student can check."""
    v = results["significance"]
    seeds = len(results["seeds"])
    ci = ("over seeds (Student t)" if seeds > 1
          else "over the test examples (Clopper-Pearson; one seed, so seed-to-seed spread is unknown)")
    text = (f"*p vs best*: two-sided p-value against the best optimizer ({v['test'] or 'no test possible'}). "
            f"Over seeds, an optimizer with p ≥ {v['alpha']:g} is *tied* with the best (the data cannot tell "
            f"them apart), and a winner is named only when every other optimizer is significantly behind it.")
    if v.get("one_seed"):
        text += (f" On one seed, McNemar's test compares the two trained networks on the test images: "
                 f"*within noise* marks a network the test cannot tell from the best's; it says nothing "
                 f"about the optimizers, so no winner is named.")
    if v.get("pooled"):
        text += (f" The p-values pool {_seed_list(v['pooled'])}: the same setting, so the paired t-test "
                 f"runs over all of them.")
    return text + f" *95 % interval*: of the mean test accuracy, {ci}. Equal accuracies share a rank."


def shown(results, name):
    """An optimizer's name in the tables, marked when it is the user's own class."""
    return f"{name} (yours)" if name in results.get("optimizer_files", {}) else name


def yours_note(results):
    """Which optimizers are the user's, and the file and class each came from."""
    files = results.get("optimizer_files") or {}
    return "".join(f"*{name} (yours)* is `{reference.rpartition(':')[2]}` from `{reference.rpartition(':')[0]}`. "
                   for name, reference in files.items()).strip()


def openvino_section(results):
    """Accuracy per precision, with the difference from PyTorch and whether it is within noise,
    the precision each column really computed in, and which runs needed INT8 accuracy control."""
    precisions = results["precisions"]
    if not precisions:
        return "OpenVINO stage skipped: no precisions asked for (`--precisions`)."
    skipped = sorted({r["openvino"]["skipped"] for r in results["runs"] if "skipped" in r["openvino"]})
    versus = [p for p in precisions if p != "fp32"] if "fp32" in precisions else []
    lines = ["| optimizer | PyTorch | " + " | ".join(deployed.precision_label(results, p) for p in precisions) + " |"
             + "".join(f" {p.upper()} − FP32 (points) |" for p in versus),
             "|---|---|" + "---|" * len(precisions) + "---:|" * len(versus)]
    for r in results["summary"]:
        cells = [_deployed_cell(r["openvino"][p]) for p in precisions]
        line = (f"| {shown(results, r['optimizer'])} | {_pm(r['test_accuracy_mean'], r['test_accuracy_std'])} | "
                + " | ".join(cells))
        for p in versus:
            diff = r["openvino"][p]["vs_fp32"]
            within = diff["within_noise"]
            line += (f" | {_num(None if diff['difference'] is None else 100 * diff['difference'], '+.2f')}"
                     + (" (noise)" if within else f" (p = {format_p(diff['p_value'])})" if within is False else ""))
        lines.append(line + " |")
    text = "\n".join(lines)
    text += ("\n\nIn brackets: the difference from PyTorch in points, and whether it is within test-set "
             "noise: McNemar's exact test on the test examples where the two predictions differ, "
             f"within noise when p ≥ {ALPHA} (with several seeds: in how many runs). FP32, FP16 and INT8 "
             "are computed in pinned f32 (INT8 in int8 where quantized); NATIVE is the FP32 IR as the "
             "device runs it by default, BF16 the FP32 IR computed in bfloat16.")
    native = [r["openvino"]["native"] for r in results["summary"] if "native" in r["openvino"]]
    if native and all(n["same_as_fp32"] for n in native if n["tested_runs"]):
        text += (f" Here native ran in {', '.join(sorted({x for n in native for x in n['runs_in']}))}: "
                 "the same arithmetic as pinned FP32 (the device has no lower default precision), "
                 "so the native column equals FP32.")
    if versus:
        text += ("\n\n*(noise)*: the difference from FP32 is within test-set noise (McNemar's exact test on the "
                 f"per-example predictions, pooled over seeds, p ≥ {results['significance']['alpha']:g}); "
                 "otherwise the p-value is shown.")
    control = accuracy_control(results)
    if control:
        text += "\n\n" + control
    if skipped:
        text += "\n\nSkipped runs: " + "; ".join(skipped) + "."
    return text


def _deployed_cell(entry):
    cell = _pm(entry["test_accuracy_mean"], entry["test_accuracy_std"])
    if entry.get("delta_vs_torch_mean") is None:
        return cell
    delta = f"{100 * entry['delta_vs_torch_mean']:+.2f}"
    tested, within = entry["tested_runs"], entry["within_noise_runs"]
    if not tested:
        return f"{cell} ({delta})"
    if tested == 1:
        return f"{cell} ({delta}, {'within noise' if within else 'beyond noise'})"
    return f"{cell} ({delta}, {within}/{tested} within noise)"


def accuracy_control(results):
    """Which runs' INT8 step needed NNCF's accuracy control (``--max-accuracy-drop``), or None."""
    if results.get("max_accuracy_drop") is None:
        return None
    needed, fine = [], []
    for r in results["runs"]:
        int8 = (r["openvino"].get("export") or {}).get("int8") or {}
        if int8.get("accuracy_control_needed"):
            needed.append(f"{r['optimizer']} seed {r['seed']} ({int8['quantizers_reverted']} of "
                          f"{int8['quantizers'] + int8['quantizers_reverted']} quantizers reverted)")
        elif int8.get("accuracy_control_needed") is not None:
            fine.append(f"{r['optimizer']} seed {r['seed']}")
    points = 100 * results["max_accuracy_drop"]
    limit = f"{points:g} point{'' if points == 1 else 's'}"
    if not needed:
        return f"INT8 accuracy control (at most {limit} of validation accuracy lost): no run needed it."
    return (f"INT8 accuracy control (at most {limit} of validation accuracy lost) was needed by "
            f"{', '.join(needed)}; {len(fine)} other run{'s' if len(fine) != 1 else ''} stayed within it as quantized.")


def export_table(results):
    """Max |logit difference| from PyTorch at every export hop (manifest.json of each run)."""
    stages = ("onnx", "ir-fp32", "ir-fp16", "ir-int8")
    rows = []
    for r in results["runs"]:
        hops = {h["stage"]: h for h in r["openvino"].get("export", {}).get("hops", [])}
        if hops:
            rows.append(f"| {r['optimizer']} | {r['seed']} | " + " | ".join(
                _num(hops.get(s, {}).get("max_abs_diff"), ".2g") for s in stages) + " |")
    if not rows:
        return None
    return "\n".join(["| optimizer | seed | ONNX | IR FP32 | IR FP16 | IR INT8 |",
                      "|---|---:|---:|---:|---:|---:|", *rows])


def tuning_section(results):
    """The chosen learning rates and the picture of the search (tuning.png)."""
    tuning = results.get("tuning")
    if not tuning:
        return None
    lines = ["![learning-rate search](tuning.png)", "",
             "| optimizer | chosen lr | its validation score | trials | diverged trials |",
             "|---|---:|---:|---:|---:|"]
    for name, t in tuning.items():
        chosen = next((x["score"] for x in t["trials"] if x["lr"] == t["best_lr"]), None)
        diverged = sum(x["score"] is None for x in t["trials"])
        lines.append(f"| {name} | {_num(t['best_lr'], '.3g')} | {_num(chosen, '.4f')} | {len(t['trials'])} | {diverged} |")
    return "\n".join(lines)


def render(results, figures):
    """report.md's text; ``figures`` maps each figure file to its caption (``plots.write_all``)."""
    batch = results["batch_size"]
    n_opt = len(results["summary"])
    seeds = ", ".join(map(str, results["seeds"]))
    parts = [
        f"# descentlab compare: `{results['model']}` on `{results['dataset']}`",
        f"{n_opt} optimizers, {results['epochs']} epochs, batch size {batch}, seeds {seeds}"
        f"{', schedule ' + results['schedule'] if results['schedule'] else ''}"
        f"{', learning rates tuned on the validation set' if results['tune_lr'] else ''}; "
        f"trained in {_trained_in(results.get('train_precision', 'fp32'))}; "
        f"OpenVINO device {results['device']}. Generated {datetime.datetime.now():%Y-%m-%d %H:%M}.",
        headline(results),
        *([yours_note(results)] if results.get("optimizer_files") else []),
        "## PyTorch: test accuracy (mean ± std over seeds)",
        torch_table(results),
        significance_note(results),
        "Every optimizer started from the same initial weights and saw the same mini-batches in "
        "the same order for a given seed. *best epoch*: epoch of the best validation accuracy; "
        "*s / epoch*: training seconds per epoch, evaluation excluded"
        f"{_shared_cpu(results['environment']['workers'])}.",
        f"## OpenVINO on {results['device']}: test accuracy per precision",
        openvino_section(results),
    ]
    exported = export_table(results)
    if exported:
        parts += ["Export check, max |logit difference| from PyTorch on a validation batch "
                  "(each run's `manifest.json`):", exported]
    parts.append("## Plots")
    for name, caption in figures.items():
        if name != "tuning.png":
            parts += [f"![{name[:-4]}]({name})", f"*{caption}*"]
    tuning = tuning_section(results)
    if tuning:
        parts += ["## Learning-rate search", tuning]
    parts += ["## Hyperparameters",
              "\n".join(f"- **{r['optimizer']}**: " + ", ".join(f"{k}={v}" for k, v in r["hparams"].items())
                        for r in _first_runs(results))]
    return "\n\n".join(parts) + "\n"


def _trained_in(precision):
    """How the report names the training precision (``train.precision``)."""
    if precision == "bf16":
        return "bf16 (autocast around forward pass and loss; float32 weights, gradients and optimizer state)"
    return precision


def _first_runs(results):
    seen, out = set(), []
    for r in results["runs"]:
        if r["optimizer"] not in seen:
            seen.add(r["optimizer"])
            out.append(r)
    return out


def write(out, results):
    """Write the figures, report.md and report.html into ``out``."""
    figures = plots.write_all(out, results)
    text = render(results, figures)
    io.write_text(out / "report.md", text)
    io.write_text(out / "report.html", webpage.render(text, {name: (out / name).read_bytes() for name in figures}))


def _shared_cpu(workers):
    """How the runs shared the CPU, for the note under the table (``workers`` None: not resolved,
    as in results summarised outside a comparison)."""
    if not workers or workers == 1:
        return ""
    return f" (runs trained {workers} at a time, each worker process on its own share of the cores)"
