"""Run by tests/test_distributed.py, under torchrun (2 ranks) or alone: one short fit of the
global forecaster or the sequence classifier that records the gradients of its first
optimiser step (every rank writes its own file) and the history of the run.

    python tests/ddp_worker.py OUT_DIR global|classifier BATCH [EPOCHS [CKPT [STOP_AT]]]

With CKPT, the model checkpoints into that folder (and resumes from it); with
STOP_AT it is interrupted (KeyboardInterrupt, exit 130) when epoch STOP_AT ends. The final
weights go to ``weights-<kind>-rank<R>.npy``. At exit, after lstmkit's own exit handlers (atexit
runs them last-registered first), ``open-at-exit-rank<R>.json`` records whether the process
group was still open and how many gloo threads were still running (Linux; None elsewhere).
"""

from __future__ import annotations

import atexit
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))


def record_first_step(cls, path: Path) -> None:
    """Patch ``cls.step`` to save the gradients it is about to apply, the first time."""
    original = cls.step

    def step(self, *a, **k):
        if not path.exists():
            grads = [p.grad.detach().double().numpy().ravel() for g in self.param_groups
                     for p in g["params"] if p.grad is not None]
            np.save(path, np.concatenate(grads))
        return original(self, *a, **k)

    cls.step = step


def record_open_group(path: Path) -> None:
    """Registered before the fit, so it runs after every exit handler lstmkit registers."""
    tasks = Path("/proc/self/task")
    gloo = None
    if tasks.is_dir():
        names = [(t / "comm").read_text().strip() for t in tasks.iterdir()]
        gloo = sum("gloo" in n for n in names)
    path.write_text(json.dumps({"open": torch.distributed.is_initialized(),
                                "gloo_threads": gloo}))


def main() -> None:
    out, kind, batch = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    ckpt = sys.argv[5] if len(sys.argv) > 5 else None
    stop_at = int(sys.argv[6]) if len(sys.argv) > 6 else None
    rank = int(os.environ.get("RANK", "0"))
    atexit.register(record_open_group, out / f"open-at-exit-rank{rank}.json")
    if stop_at is not None:
        from lstmkit.core import training

        record = training.EpochLog.record

        def interrupted(self, row):
            out = record(self, row)
            if row["epoch"] == stop_at:
                raise SystemExit(130)  # before this epoch's checkpoint: a resume redoes it
            return out

        training.EpochLog.record = interrupted
    grads = out / f"grads-{kind}-rank{rank}-world{os.environ.get('WORLD_SIZE', '1')}.npy"
    if kind == "global":
        from panels import synthetic_panel

        from lstmkit.forecast.panel.model import GlobalForecaster

        record_first_step(torch.optim.Adam, grads)
        model = GlobalForecaster(lookback=12, horizon=4, hidden_size=8, epochs=epochs,
                                 steps_per_epoch=5, batch_size=batch, seeds=1, workers=1,
                                 dropout=0.0, progress=False).fit(
            synthetic_panel(6), test=0, checkpoint=ckpt, resume=ckpt is not None)
        history = model.histories_[0]
    else:
        from lstmkit.classify.classifier import SequenceClassifier

        record_first_step(torch.optim.AdamW, grads)
        # no dropout and no random windows: their draws differ between ranks and one process
        model = SequenceClassifier(hidden_size=8, conv_channels=0, epochs=epochs,
                                   batch_size=batch, steps_per_epoch=4, progress=False,
                                   dropout=0.0, random_crop=0.0, seeds=1,
                                   workers=1).fit("digits-rows", checkpoint=ckpt,
                                                  resume=ckpt is not None)
        history = model.histories_[0]
    weights = np.concatenate([v.double().numpy().ravel() for v in
                              model.networks_[0].state_dict().values()])
    np.save(out / f"weights-{kind}-rank{rank}.npy", weights)
    (out / f"history-{kind}-rank{rank}.json").write_text(json.dumps(history))


if __name__ == "__main__":
    main()
