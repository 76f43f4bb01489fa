"""Batch, stochastic and mini-batch gradient descent on the same model, data
and initial weights (lecture 000, "Batch vs. Mini-batch"; lecture 002 Module 5.6).

One epoch is one pass over the 768 training points of ``blobs2d`` with
logistic regression. Batch gradient descent makes one update per epoch and its
loss falls smoothly; stochastic gradient descent makes 768 noisy updates,
mini-batch (32) 24 less noisy ones. The loss plotted is the full training
loss after every update, so the noise is the optimizer's, not the measurement's.
"""

import time

import numpy as np
import torch

from descentlab import models, optimizers
from descentlab.labs import plots
from descentlab.train import datasets, objective
from descentlab.train.batches import epoch_batches, num_batches

NAME = "batch-sizes"
TITLE = "Stochastic steps are many and noisy, the batch step is one and smooth, mini-batch in between"
CLAIM = ("With the same learning rate, data and initial weights, batch gradient descent lowers the "
         "training loss at every update but makes one update per epoch; stochastic gradient descent "
         "makes one update per example, raises the loss on many of them, and still ends the first "
         "epoch far lower; mini-batches sit in between on both counts.")
LECTURE = "lecture 000 (batch vs. mini-batch gradient descent); lecture 002, Module 5.6"

LR = 0.5
BATCHES = (("batch (all 768)", None), ("mini-batch (32)", 32), ("stochastic (1)", 1))


def train(dataset, batch_size, epochs, seed=0):
    """Full training loss after every update, and seconds per epoch."""
    model = models.create("logreg", dataset.input_shape, dataset.num_classes, seed=seed)
    optimizer = optimizers.create("sgd", model.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(seed)
    x, y = dataset.train.x, dataset.train.y
    losses, seconds = [objective.evaluate(model, dataset.train, dataset.task)[0]], []
    for _ in range(epochs):
        began, spent = time.perf_counter(), 0.0
        for xb, yb in epoch_batches(x, y, batch_size, generator):
            optimizer.zero_grad()
            objective.loss(dataset.task, model(xb), yb).backward()
            optimizer.step()
            measured = time.perf_counter()
            with torch.no_grad():
                losses.append(float(objective.loss(dataset.task, model(x), y)))
            spent += time.perf_counter() - measured
        seconds.append(time.perf_counter() - began - spent)
    return losses, seconds


def measure(fast):
    dataset = datasets.load("blobs2d")
    epochs = 1 if fast else 5
    n = len(dataset.train)
    runs, numbers = {}, {"dataset": "blobs2d", "model": "logreg", "optimizer": "sgd", "lr": LR,
                         "epochs": epochs, "train_size": n, "runs": []}
    for label, batch in BATCHES:
        losses, seconds = train(dataset, batch, epochs)
        per_epoch = num_batches(n, batch)
        rises = float(np.mean(np.diff(losses) > 0))
        runs[label] = (losses, per_epoch)
        numbers["runs"].append({"label": label, "batch_size": batch or n, "updates_per_epoch": per_epoch,
                                "loss_after_epoch_1": losses[per_epoch], "final_loss": losses[-1],
                                "fraction_of_updates_raising_the_loss": rises,
                                "seconds_per_epoch": float(np.median(seconds))})
    batch, mini, sgd = numbers["runs"]
    numbers["checks"] = {
        "batch gradient descent never raises the training loss":
            batch["fraction_of_updates_raising_the_loss"] == 0,
        "stochastic updates raise the loss more often than mini-batch ones, which do more than batch":
            sgd["fraction_of_updates_raising_the_loss"] > mini["fraction_of_updates_raising_the_loss"]
            > batch["fraction_of_updates_raising_the_loss"],
        "updates per epoch: 1, 24, 768": [r["updates_per_epoch"] for r in numbers["runs"]] == [1, 24, 768],
        "after one epoch: stochastic < mini-batch < batch":
            sgd["loss_after_epoch_1"] < mini["loss_after_epoch_1"] < batch["loss_after_epoch_1"],
    }
    return numbers, runs


def draw(data, out):
    fig, (left, right) = plots.figure(2, title=TITLE)
    for i, (label, (losses, per_epoch)) in enumerate(data.items()):
        epochs = np.arange(len(losses)) / per_epoch
        style = plots.style(i)
        left.plot(epochs, losses, label=f"{label}: {per_epoch} updates/epoch",
                  **{**style, "markevery": max(1, len(losses) // 12)})
        first = losses[: min(len(losses), 60)]
        right.plot(np.arange(len(first)), first, label=label, **{**style, "markevery": 5})
    plots.finish(left, "loss after every update, by epoch", "epochs (passes over the data)", "training loss",
                 yscale="log")
    plots.finish(right, "the first 60 updates: one step each", "update", "training loss")
    return [plots.save(fig, out / "batch-sizes.png")]
