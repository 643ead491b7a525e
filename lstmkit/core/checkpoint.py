"""Training checkpoints: one file pair per seed, written atomically after every epoch.

A checkpoint holds everything the next epoch depends on, so that a resumed run continues
bitwise as if it had never stopped: the weights, the optimizer's state (``torch.optim.Adam``'s
or the fused step's moments), the batch-order generator and torch's global RNG (dropout), the
epoch, the history and the best epoch's weights. Tensors go to ``seed<S>.safetensors``, the
rest to ``seed<S>.json``; each is written to a temporary file, fsynced, and renamed, the JSON
last, so a kill at any moment leaves the previous epoch's checkpoint or the new one, never a
mixture (the JSON names the epoch its tensors belong to).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from lstmkit.core.errors import expected


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Checkpoint:
    """The checkpoint of one seed in folder ``folder`` (``identity``: what must match to
    resume, e.g. the model's parameters and a digest of the training data)."""

    def __init__(self, folder: str | os.PathLike, seed: int, identity: dict, rank: int = 0):
        # as JSON will give it back (tuples become lists), so that the comparison holds
        self.folder, self.seed = Path(folder), int(seed)
        self.identity = json.loads(json.dumps(identity))
        # torchrun: each rank keeps its own (its dropout RNG differs); rank 0's is the usual
        self.path = self.folder / (f"seed{self.seed}.ckpt" if rank == 0 else
                                   f"seed{self.seed}.rank{rank}.ckpt")

    def exists(self) -> bool:
        return self.path.is_file()

    def save(self, tensors: dict[str, torch.Tensor], meta: dict) -> None:
        from safetensors.torch import save_file

        self.folder.mkdir(parents=True, exist_ok=True)
        flat, seen = {}, set()
        for k, v in tensors.items():  # tied weights share storage: safetensors wants copies
            v = v.detach().contiguous().cpu()
            ptr = v.untyped_storage().data_ptr()
            flat[k] = v.clone() if ptr in seen else v
            seen.add(ptr)
        text = json.dumps({**meta, "identity": self.identity})
        _atomic(self.path, lambda p: save_file(flat, str(p), metadata={"lstmkit": text}))

    def load(self) -> tuple[dict[str, torch.Tensor], dict]:
        from safetensors import safe_open

        try:
            with safe_open(str(self.path), "pt") as fh:
                meta = json.loads(fh.metadata()["lstmkit"])
                tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
        except Exception as err:  # a damaged file: say so, in one line
            raise expected("Resume", f"a readable checkpoint '{self.path}'",
                           f"{type(err).__name__}") from None
        if meta.get("identity") != self.identity:
            raise expected("Resume", "the settings of the interrupted run (resume with the "
                           "same command)", "other parameters or data")
        return tensors, meta


def seed_checkpoints(folder, model, *arrays):
    """``seed -> Checkpoint`` (None without a ``folder``) for a fit of ``model``: the
    identity a resume must match is the model's class, its parameters (``model_params()``)
    and a digest of the training ``arrays`` (tensors or NumPy); under torchrun each rank
    keeps its own."""
    if folder is None:
        return lambda s: None
    import hashlib

    import numpy as np

    from lstmkit.core.distributed import rank

    digest = hashlib.sha1()
    for a in arrays:
        a = a.detach().cpu().numpy() if torch.is_tensor(a) else np.asarray(a)
        digest.update(np.ascontiguousarray(a).tobytes())
    identity = {"model_class": type(model).__name__, "params": model.model_params(),
                "data": digest.hexdigest()}
    r = rank()
    return lambda s: Checkpoint(folder, s, identity, r)


def start_folder(folder, resume: bool) -> Path | None:
    """The checkpoint folder of a fit: a fresh one (an older run's is removed), or
    (``resume``) an interrupted run's; None without one."""
    if folder is None:
        if resume:
            raise expected("Resume", "a checkpoint folder (checkpoint=...)", "none")
        return None
    folder = Path(folder)
    # resume with no checkpoint yet (killed before its first epoch ended): start afresh
    if not resume and folder.exists():
        import shutil

        shutil.rmtree(folder)  # an older run's checkpoint: this fit starts afresh
    return folder


def finish_folder(folder: Path | None) -> None:
    """A completed fit's checkpoints: removed (nothing to resume). Under torchrun, rank 0
    removes them once every rank has written its last one."""
    if folder is None:
        return
    import shutil

    from lstmkit.core import distributed

    distributed.barrier()
    if distributed.is_main():
        shutil.rmtree(folder, ignore_errors=True)


def checkpoint_folder(out) -> Path:
    """Where ``lstmkit fit --out DIR`` keeps its checkpoints: ``.DIR.checkpoint`` beside it."""
    out = Path(out)
    return out.absolute().parent / f".{out.name}.checkpoint"


def interrupted_message(folder: Path) -> str:
    """What an interrupted ``fit`` prints: where its checkpoint is, or that nothing was."""
    if any(Path(folder).glob("seed*.ckpt")):
        return (f"interrupted: the last checkpoint is kept in {folder}/; run the same command "
                "with --resume to continue")
    return "interrupted: nothing was written"


def save_epoch(checkpoint: Checkpoint, epoch: int, net, log, *, opt=None,
               generators: dict[str, torch.Generator] | None = None,
               tensors: dict[str, torch.Tensor] | None = None, **meta) -> None:
    """The checkpoint every training loop writes after ``epoch``: ``net``'s weights, torch's
    global RNG (dropout), ``log``'s history and best weights (:class:`EpochLog` state),
    ``opt``'s state (when given) and the ``generators``' states (``rng.<name>``), plus the
    loop's own ``tensors`` and JSON-able ``meta``. :func:`resume_epoch` reads it back."""
    out = {f"model.{k}": v for k, v in net.state_dict().items()}
    out["rng.torch"] = torch.get_rng_state()
    out |= {f"rng.{name}": g.get_state() for name, g in (generators or {}).items()}
    best, state = log.state()
    out |= best
    if opt is not None:
        opt_t, state["opt"] = optimizer_tensors(opt)
        out |= opt_t
    checkpoint.save({**out, **(tensors or {})}, {**state, "epoch": epoch, **meta})


def resume_epoch(checkpoint: Checkpoint, net, log, *, opt=None,
                 generators: dict[str, torch.Generator] | None = None) -> tuple[dict, dict]:
    """Restore what :func:`save_epoch` wrote into ``net``, torch's RNG, ``log``, ``opt`` and
    the ``generators``; returns ``(tensors, meta)`` for the loop's own state."""
    tensors, meta = checkpoint.load()
    net.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    torch.set_rng_state(tensors["rng.torch"])
    for name, g in (generators or {}).items():
        g.set_state(tensors[f"rng.{name}"])
    if opt is not None:
        restore_optimizer(opt, tensors, meta["opt"])
    log.restore(tensors, meta)
    return tensors, meta


def optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    """``torch.optim`` state as (tensors, JSON-able rest)."""
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"opt.{idx}.{key}"] = value
            else:
                scalars[f"{idx}.{key}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def restore_optimizer(opt: torch.optim.Optimizer, tensors: dict, rest: dict) -> None:
    state: dict = {}
    for name, value in tensors.items():
        if name.startswith("opt."):
            _, idx, key = name.split(".", 2)
            state.setdefault(int(idx), {})[key] = value
    for name, value in rest["scalars"].items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g
              for g in rest["param_groups"]]
    opt.load_state_dict({"state": state, "param_groups": groups})
