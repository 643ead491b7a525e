"""Shared machinery of the neural classifiers: seeds, metrics, baselines, run directories.

:class:`NeuralClassifierBase` trains ``seeds`` :class:`~lstmkit.nn.sequence.SequenceNet`
members (seeds ``seed, seed+1, ...``), averages their class probabilities for ``predict``, and
reports every member, their mean / median / min / max, the ensemble, and the baselines on the
same split. Subclasses turn their inputs into ``(x, lengths)`` tensors (``_tensors``) and
provide their baselines (``_baseline_scores``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from lstmkit.core.aggregate import aggregate
from lstmkit.core.checkpoint import finish_folder, seed_checkpoints, start_folder
from lstmkit.core.classifier_training import (
    ClassifyConfig,
    predict_logits,
    train_classifier,
)
from lstmkit.core.estimator import Estimator
from lstmkit.core.parallel import fit_seeds
from lstmkit.core.table import format_table
from lstmkit.core.training import auto_threads


def classification_metrics(y_true, y_pred, n_classes: int) -> dict:
    """``accuracy`` and ``macro_f1`` (scikit-learn, every class counted, 0 if never predicted)."""
    from sklearn.metrics import accuracy_score, f1_score

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro",
                                       labels=list(range(n_classes)), zero_division=0))}


def confusion(y_true, y_pred, n_classes: int) -> list[list[int]]:
    """Confusion matrix (rows: true class, columns: predicted) as nested lists."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y_true, y_pred, labels=list(range(n_classes))).tolist()


class NeuralClassifierBase(Estimator):
    """Seeds, training, probabilities, evaluation and persistence of a neural classifier.

    Subclasses set ``spec`` (their network config under ``"network"``, the optimiser's
    :class:`~lstmkit.core.config.ClassifyConfig` under ``"train"``) and ``network_class``:
    the torch network they train (``lstmkit.nn.sequence.SequenceNet``), so that core imports
    no network.
    """

    label = "classifier"
    network_class: type  # the torch network a subclass trains: core knows no nn

    def _check(self) -> None:
        self.network_config(1, 2).validate(type(self).__name__)

    def train_config(self) -> ClassifyConfig:
        return replace(self.config("train"), bucket=getattr(self, "_bucket", False))

    def network_config(self, input_size: int, n_classes: int):  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------------ training
    def _train_members(self, net_cfg, train, val, stats=None, on_epoch=None,
                       checkpoint=None, resume: bool = False) -> None:
        """Train one network per seed on ``(x, lengths, y)`` tensors; ``on_epoch(seed, row)``:
        fit's epoch hook (see :func:`lstmkit.core.parallel.fit_seeds`); ``checkpoint`` and
        ``resume``: one checkpoint per seed in that folder after every epoch, removed when the
        fit completes, continued from with ``resume``."""
        self.network_config_ = net_cfg
        cfg, run = self.train_config(), self.config("execution")
        from lstmkit.core.resources import check_memory, recurrent_params

        n_in = net_cfg.embed_size if net_cfg.vocab_size else net_cfg.input_size
        n = recurrent_params(net_cfg.cell, n_in, net_cfg.hidden_size, net_cfg.num_layers,
                             net_cfg.bidirectional) + net_cfg.vocab_size * net_cfg.embed_size
        check_memory(type(self).__name__, n * len(self.seed_list),
                     f"hidden_size {net_cfg.hidden_size}, num_layers {net_cfg.num_layers}")

        def build():
            net = self.network_class(net_cfg)
            if stats is not None:
                net.set_standardization(*stats)
            return net

        folder = start_folder(checkpoint, resume)
        ckpt = seed_checkpoints(folder, self, *train)
        done = fit_seeds(self.seed_list, build, lambda net, s, r, on_epoch: train_classifier(
            net, train, val, cfg, seed=s, desc=f"{self.label} seed {s}", on_epoch=on_epoch,
            run=r, checkpoint=ckpt(s)), run, cfg.epochs,
            auto_threads(n, run.threads, cfg.batch_size), self.label, on_epoch)
        self.networks_, self.histories_ = done.networks, done.histories
        self.train_seconds_, self.best_epochs_ = done.train_seconds, done.best_epochs
        self.fit_seconds_, self.workers_ = done.seconds, done.workers
        finish_folder(folder)

    def _member_proba(self, x, lengths) -> np.ndarray:
        """(S, N, K) class probabilities of every member."""
        from lstmkit.core.device import on_device, resolve_device
        from lstmkit.core.training import torch_threads

        device = resolve_device(self.device)
        x, lengths = x.to(device), lengths.to(device)
        out = []
        with torch_threads(1 if self.threads == 0 else self.threads):
            for net in self.networks_:
                with on_device(net, device):
                    logits = predict_logits(net, x, lengths)  # (N, K)
                out.append(torch.softmax(logits, 1).double().cpu().numpy())
        return np.stack(out)

    # ------------------------------------------------------------------ evaluation
    def _report(self, y: np.ndarray, members: np.ndarray, baselines: dict) -> dict:
        """Per-seed, aggregate and ensemble metrics beside the baselines' (same sequences)."""
        K = len(self.classes_)
        per_seed = [classification_metrics(y, p.argmax(1), K) for p in members]
        ens_pred = members.mean(0).argmax(1)
        ensemble = classification_metrics(y, ens_pred, K)
        ensemble["confusion"] = confusion(y, ens_pred, K)
        return {"model": self.label, "n": int(len(y)), "classes": list(self.classes_),
                "per_seed": per_seed, "aggregate": aggregate(per_seed), "ensemble": ensemble,
                "baselines": baselines,
                "train_seconds": list(getattr(self, "train_seconds_", []))}

    def _majority(self, y: np.ndarray) -> dict:
        counts = np.asarray(self.class_counts_)
        return classification_metrics(y, np.full(len(y), int(counts.argmax())),
                                      len(self.classes_))

    # ------------------------------------------------------------------ persistence
    def _state_tensors(self) -> dict:
        from lstmkit.core.persistence import seed_tensors

        return seed_tensors(self.seed_list, self.networks_)

    def _fitted_config(self) -> dict:
        return {"classes": list(self.classes_), "class_counts": list(self.class_counts_),
                "network": self.network_config_.to_dict(),
                "train": self.train_config().to_dict(), "seeds": self.seed_list,
                "train_seconds": self.train_seconds_, "best_epochs": self.best_epochs_,
                **self._extra_config()}

    def _extra_config(self) -> dict:
        return {}

    def _restore(self, config: dict, tensors: dict) -> None:
        from lstmkit.core.config import from_dict
        from lstmkit.core.persistence import load_seed_networks

        self.classes_ = list(config["classes"])
        self.class_counts_ = list(config["class_counts"])
        self.network_config_ = from_dict(type(self.network_config(1, 2)), config["network"])
        self.networks_ = load_seed_networks(lambda: self.network_class(self.network_config_),
                                            config["seeds"], tensors)
        self.train_seconds_ = config.get("train_seconds", [])
        self.best_epochs_ = config.get("best_epochs", [])
        self.histories_ = []
        self._load_extra(config, tensors)

    def _load_extra(self, config: dict, tensors: dict) -> None:
        pass


# ---------------------------------------------------------------------- text report
def _pct(v) -> str:
    from lstmkit.core.aggregate import format_mmm

    if isinstance(v, dict):
        d = {k: (x * 100 if isinstance(x, float) else x) for k, x in v.items()}
        return format_mmm(d, "{:.2f}") if d["max"] != d["min"] else f"{d['mean']:.2f}"
    return f"{v * 100:.2f}"


def report_table(report: dict, title: str = "") -> str:
    """Baselines and the model (mean [min-max] over seeds, and the seed ensemble): accuracy
    and macro-F1 in percent, training seconds."""
    rows = [(name, _pct(m["accuracy"]), _pct(m["macro_f1"]), "-")
            for name, m in report["baselines"].items()]
    S = len(report["per_seed"])
    secs = report.get("train_seconds") or []
    agg = report["aggregate"]
    rows.append((report["model"] + (f" ×{S}" if S > 1 else ""), _pct(agg["accuracy"]),
                 _pct(agg["macro_f1"]), f"{sum(secs):.1f}" if secs else "-"))
    if S > 1:
        ens = report["ensemble"]
        rows.append((f"{report['model']} ensemble of {S}", _pct(ens["accuracy"]),
                     _pct(ens["macro_f1"]), "-"))
    header = ("model", "accuracy % mean [min-max]", "macro-F1 %", "train s")
    lines = [format_table(header, rows, title)]
    lines += [f"{name} skipped: {why}"
              for name, why in (report.get("skipped_baselines") or {}).items()]
    lines.append(verdict(report))
    return "\n".join(lines)


def verdict(report: dict) -> str:
    """One line: does the model (the seed ensemble, which ``predict`` uses) beat the best
    baseline on accuracy?"""
    S = len(report["per_seed"])
    acc = report["ensemble"]["accuracy"] if S > 1 else report["per_seed"][0]["accuracy"]
    what = report["model"] + (f" (ensemble of {S})" if S > 1 else "")
    name, best = max(((n, m["accuracy"]) for n, m in report["baselines"].items()),
                     key=lambda t: t[1])
    if acc > best:
        return (f"verdict: {what} beats every baseline: accuracy {acc * 100:.2f}% vs "
                f"{name} {best * 100:.2f}%")
    return (f"verdict: {what} does NOT beat {name}: accuracy {acc * 100:.2f}% vs "
            f"{best * 100:.2f}%")
