"""Train the seeds of ``--seeds N`` side by side, one forked worker process per core.

The N networks are independent and each is too small to keep more than one core busy: on a
32 x 64 batch, torch's intra-op threads cost more than they give (the course loop runs no
faster on 2 threads than on 1). So instead of splitting each matrix product over the cores,
lstmkit gives each core whole seeds: :func:`map_seeds` forks ``workers`` processes, each runs
``fn(seed)`` for its share of the seeds on one thread, and the results come back in seed
order. Every seed runs exactly the code and the thread count of the sequential loop, so the
weights and histories are bitwise the same (``tests/test_parallel.py``); only the wall time
drops, by about the number of cores (``benchmarks/gas_furnace_speed.py``).

Workers are forked (Linux only; elsewhere, and inside a daemonic process, the seeds run one
after another): the children inherit the data and the model-building closure, so nothing but
the seed and the result (NumPy arrays, history rows) crosses a process boundary. Each child
sets one torch thread before it touches torch.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

_TASK: Callable[[int], Any] | None = None  # what forked children run (inherited, not pickled)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def seed_workers(requested: int, n_seeds: int) -> int:
    """Worker processes for ``n_seeds`` seeds: ``requested`` (0 = one per core), at most one
    per seed, and 1 where forking is unavailable or not allowed."""
    if n_seeds < 2 or requested == 1 or sys.platform != "linux":
        return 1
    if mp.current_process().daemon:  # e.g. inside a multiprocessing.Pool worker
        return 1
    n = available_cores() if requested <= 0 else requested
    return max(1, min(n, n_seeds))


def _child_init() -> None:
    """In each worker: die with the parent (a killed ``lstmkit fit`` leaves no orphan
    training on, nor its BrokenPipeError tracebacks), and one torch thread."""
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: killed when the parent dies
        if os.getppid() == 1:  # the parent died before that took effect
            os._exit(1)
    except (OSError, AttributeError):  # not glibc Linux: seed_workers() forks only there
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles ^C and SIGTERM ...
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # ... and ends its workers with SIGTERM
    import torch

    torch.set_num_threads(1)


def _run(seed: int):
    assert _TASK is not None  # set by map_seeds before the fork
    return _TASK(seed)


def _forked_pool(workers: int):
    """A fork Pool whose workers start with SIGTERM at its default action.

    The CLI installs a Python-level SIGTERM handler (stop as ^C does). A child forked with it
    that receives SIGTERM before :func:`_child_init` resets it defers the signal to Python,
    which then drops it once the handler is SIG_DFL: ``Pool.terminate`` (after a failed seed)
    would wait for ever on a worker that never got its signal."""
    import signal
    import threading

    ctx = mp.get_context("fork")
    if threading.current_thread() is not threading.main_thread():
        return ctx.Pool(workers, initializer=_child_init)
    old = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        return ctx.Pool(workers, initializer=_child_init)
    finally:
        signal.signal(signal.SIGTERM, old)


def map_seeds(fn: Callable[[int], Any], seeds: list[int], workers: int,
              on_result: Callable[[Any], None] | None = None,
              poll: Callable[[], None] | None = None) -> list:
    """``[fn(s) for s in seeds]``, computed by ``workers`` forked processes when > 1.

    ``fn``'s result must be picklable (return NumPy arrays rather than tensors);
    ``on_result`` is called in the parent as each result arrives, and ``poll`` about ten
    times a second while it waits (both for a progress bar).
    """
    global _TASK
    if workers <= 1:
        out = []
        for s in seeds:
            out.append(fn(s))
            if on_result is not None:
                on_result(out[-1])
        return out
    _TASK = fn
    try:
        with _forked_pool(workers) as pool:
            procs = list(pool._pool)  # the workers (a dead one would hang imap for ever)
            out, it = [], pool.imap(_run, seeds, chunksize=1)
            while len(out) < len(seeds):
                try:
                    r = it.next(timeout=0.1)
                except mp.TimeoutError:
                    if poll is not None:
                        poll()
                    dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
                    if dead:
                        from lstmkit.core.errors import LstmkitError

                        raise LstmkitError(f"Training: expected every seed worker to finish, "
                                           f"got one that died (exit code {dead[0]}); "
                                           "rerun with --workers 1 to see why") from None
                    continue
                out.append(r)
                if on_result is not None:
                    on_result(r)
            return out
    finally:
        _TASK = None


def train_seeds(build: Callable[[], Any], train_one: Callable[..., Any], seeds: list[int],
                workers: int, bar=None) -> list[tuple[Any, Any]]:
    """For each seed s: ``torch.manual_seed(s)``, ``net = build()``,
    ``train_one(net, s, on_epoch)``, where ``train_one`` returns a ``TrainResult`` and calls
    ``on_epoch(row)`` (when not None) after each epoch.

    Returns ``[(net, result)]`` in seed order. With ``workers > 1`` the seeds train in
    forked processes (see :func:`map_seeds`) and come back as state dicts, loaded here into
    fresh ``build()`` networks; ``bar`` (optional, a tqdm bar of ``len(seeds) x epochs``)
    then advances with every epoch of every worker and shows the latest losses.
    """
    import torch

    events = mp.get_context("fork").SimpleQueue() if workers > 1 and bar is not None else None

    def task(s: int):
        torch.manual_seed(s)
        net = build()
        on_epoch = None if events is None else (lambda row: events.put((s, row)))
        result = train_one(net, s, on_epoch)
        if workers <= 1:
            return net, result
        return {k: v.detach().numpy() for k, v in net.state_dict().items()}, result

    def drain() -> None:  # epochs finished in the workers since the last look
        while not events.empty():
            s, row = events.get()
            bar.update(1)
            bar.set_postfix({"seed": s, **{k: f"{v:.4g}" for k, v in row.items()
                                            if "loss" in k}})

    def finished(one) -> None:  # a seed stopped early: its remaining epochs count as done
        drain()
        bar.update(max(0, bar.total // len(seeds) - len(one[1].history)))

    if workers > 1:  # pay the optimizer's one-time import (about 1 s) once, before the fork
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    done = map_seeds(task, seeds, workers, on_result=None if events is None else finished,
                     poll=None if events is None else drain)
    if workers <= 1:
        return done
    out = []
    for state, result in done:
        net = build()
        net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        net.eval()
        out.append((net, result))
    return out


@dataclass
class SeedFit:
    """What :func:`fit_seeds` returns: one network, history and timing per seed."""

    networks: list
    histories: list[list[dict]]
    train_seconds: list[float]  # each seed's own training time
    best_epochs: list[int]
    seconds: float  # wall time for all seeds (side by side with workers)
    workers: int


def fit_seeds(seeds: list[int], build: Callable[[], Any], train_fn: Callable[..., Any], run,
              epochs: int, threads: int, label: str = "model",
              on_epoch: Callable[[int, dict], None] | None = None) -> SeedFit:
    """Train one ``build()`` network per seed with ``train_fn(net, seed, run, on_epoch) ->
    TrainResult``, side by side in ``run.workers`` processes where that helps.

    ``threads`` is the torch thread count the loop would use for one network (0: torch's
    default): a model big enough for intra-op threads keeps them and the seeds run one after
    another. With workers, one bar over every epoch of every seed replaces the per-seed bars.
    ``on_epoch(seed, row)``: the caller's hook, called after every epoch with its history row;
    the seeds then train one after another in this process, so an exception it raises stops
    the fit (the tuner prunes that way).
    """
    from lstmkit.core.device import resolve_device
    from lstmkit.core.distributed import launched
    from lstmkit.core.training import seed_bar

    workers = seed_workers(run.workers, len(seeds))
    if workers > 1 and (threads != 1 or resolve_device(run.device).type == "cuda"
                        or launched() or on_epoch is not None):
        workers = 1  # big models keep their threads; CUDA and DDP do not survive a fork
    if on_epoch is not None:
        inner = train_fn
        train_fn = lambda net, s, run, _: inner(net, s, run, lambda row: on_epoch(s, row))
    bar = None
    if workers > 1:
        bar = seed_bar(run.progress, len(seeds), epochs, f"{label} seeds")
        run = replace(run, progress=False)
    t0 = time.perf_counter()
    done = train_seeds(build, lambda net, s, on_epoch: train_fn(net, s, run, on_epoch), seeds,
                       workers, bar)
    seconds = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    return SeedFit([net for net, _ in done], [r.history for _, r in done],
                   [r.seconds for _, r in done], [r.best_epoch for _, r in done], seconds,
                   workers)
