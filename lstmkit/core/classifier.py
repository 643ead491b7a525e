"""Shared machinery of the neural classifiers: seeds, metrics, baselines, run directories.

:class:`NeuralClassifierBase` trains ``seeds`` :class:`~lstmkit.nn.sequence.SequenceNet`
members (seeds ``seed, seed+1, ...``), averages their class probabilities for ``predict``, and
reports every member, their mean / median / min / max, the ensemble, and the baselines on the
same split. Subclasses turn their inputs into ``(x, lengths)`` tensors (``_tensors``) and
provide their baselines (``_baseline_scores``).
"""

from __future__ import annotations

import inspect

import numpy as np
import torch

from lstmkit.core.aggregate import aggregate
from lstmkit.core.classifier_training import (
    ClassifyConfig,
    predict_logits,
    threads_for,
    train_classifier,
)
from lstmkit.core.errors import expected
from lstmkit.core.parallel import fit_seeds


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


def _positive_int(component: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise expected(component, f"{name} to be a positive integer", repr(value))
    return int(value)


class NeuralClassifierBase:
    """Seeds, training, probabilities, evaluation and persistence of a neural classifier."""

    label = "classifier"
    network_class: type  # the torch network a subclass trains (``SequenceNet``): core knows no nn
    _int_params = ("hidden_size", "num_layers", "epochs", "batch_size", "seeds")

    def get_params(self) -> dict:
        """The constructor arguments (sklearn convention), JSON-serialisable."""
        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters if k not in ("self", "kw")}

    def _validate(self) -> None:
        name = type(self).__name__
        for key in self._int_params:
            _positive_int(name, key, getattr(self, key))
        if not isinstance(self.dropout, (int, float)) or not 0.0 <= float(self.dropout) < 1.0:
            raise expected(name, "dropout in [0, 1)", repr(self.dropout))
        self.train_config().validate(name)
        self.network_config(1, 2).validate(name)

    def train_config(self) -> ClassifyConfig:
        return ClassifyConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                              weight_decay=self.weight_decay, schedule=self.schedule,
                              clip_norm=self.clip_norm, label_smoothing=self.label_smoothing,
                              bucket=getattr(self, "_bucket", False), patience=self.patience,
                              threads=self.threads, workers=getattr(self, "workers", 0),
                              progress=self.progress)

    def network_config(self, input_size: int, n_classes: int):  # pragma: no cover
        raise NotImplementedError

    @property
    def seed_list(self) -> list[int]:
        return [int(self.seed) + i for i in range(int(self.seeds))]

    def _check_fitted(self, what: str) -> None:
        if not hasattr(self, "networks_"):
            raise expected(type(self).__name__, f"a fitted model before {what}", "an unfitted one")

    # ------------------------------------------------------------------ training
    def _train_members(self, net_cfg, train, val, stats=None) -> None:
        """Train one network per seed on ``(x, lengths, y)`` tensors."""
        self.network_config_ = net_cfg
        cfg = self.train_config()

        def build():
            net = self.network_class(net_cfg)
            if stats is not None:
                net.set_standardization(*stats)
            return net

        fit_seeds(self, build, lambda net, s, c, on_epoch: train_classifier(
            net, train, val, c, seed=s, desc=f"{self.label} seed {s}", on_epoch=on_epoch),
            cfg, threads_for)

    def _member_proba(self, x, lengths) -> np.ndarray:
        """(S, N, K) class probabilities of every member."""
        from lstmkit.core.training import torch_threads

        with torch_threads(1 if self.threads == 0 else self.threads):
            return np.stack([torch.softmax(predict_logits(net, x, lengths), 1).double().numpy()
                             for net in self.networks_])

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

    def _config(self) -> dict:
        from lstmkit import __version__
        from lstmkit.core.persistence import FORMAT_VERSION

        return {"format_version": FORMAT_VERSION, "lstmkit_version": __version__,
                "model_class": type(self).__name__, "params": self.get_params(),
                "classes": list(self.classes_), "class_counts": list(self.class_counts_),
                "network": self.network_config_.to_dict(),
                "train": self.train_config().to_dict(), "seeds": self.seed_list,
                "train_seconds": self.train_seconds_, "best_epochs": self.best_epochs_,
                **self._extra_config()}

    def _extra_config(self) -> dict:
        return {}

    def save(self, path, *, overwrite: bool = False, extra: dict | None = None):
        """Write a run directory atomically: ``model.safetensors`` + ``config.json``
        (+ ``extra``: file name -> writer(path))."""
        from lstmkit.core.persistence import json_writer, weights_writer, write_run_dir

        self._check_fitted("save")
        writers = {"model.safetensors": weights_writer(self._state_tensors()),
                   "config.json": json_writer(self._config()), **(extra or {})}
        return write_run_dir(path, writers, overwrite=overwrite)

    @classmethod
    def _from_config(cls, config: dict, tensors: dict):
        model = cls(**config["params"])
        model.classes_ = list(config["classes"])
        model.class_counts_ = list(config["class_counts"])
        from lstmkit.core.persistence import load_seed_networks

        model.network_config_ = type(model.network_config(1, 2))(**config["network"])
        model.networks_ = load_seed_networks(lambda: model.network_class(model.network_config_),
                                             config["seeds"], tensors)
        model.train_seconds_ = config.get("train_seconds", [])
        model.best_epochs_ = config.get("best_epochs", [])
        model.histories_ = []
        model._load_extra(config, tensors)
        return model

    def _load_extra(self, config: dict, tensors: dict) -> None:
        pass

    @classmethod
    def load(cls, path):
        """Load a run directory written by :meth:`save` (safetensors + JSON, never unpickles)."""
        from lstmkit.core.persistence import read_run_dir

        config, tensors = read_run_dir(path)
        return cls.from_run_dir(config, tensors)

    @classmethod
    def from_run_dir(cls, config: dict, tensors: dict):
        """Rebuild from the contents of a run directory (checks ``model_class``)."""
        if config.get("model_class") != cls.__name__:
            raise expected("Model", f"a {cls.__name__} run directory",
                           f"model_class {config.get('model_class')!r}")
        try:
            return cls._from_config(config, tensors)
        except (KeyError, TypeError) as err:
            raise expected("Model", "a complete config.json", f"missing or bad entry {err}") \
                from None


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
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(4)]
    fmt = lambda cells: "  ".join(str(c).ljust(w)
                                  for c, w in zip(cells, widths, strict=True)).rstrip()
    lines = [title] if title else []
    lines += [fmt(header), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)]
    return "\n".join(lines)
