r"""Fused C++ LSTM layer for small CPU problems, compiled on first use (optional).

On the course's problems (batch 32, 10 steps, H = 64) a training step is a chain of tiny
matrix products; ``torch.nn.LSTM`` (oneDNN) plus autograd spend about as much time
dispatching work as doing it. ``lstm_layer.h`` holds the LSTM equations of
:mod:`lstmkit.ref.lstm` (forward and BPTT, written beside each other) as whole-sequence C++
loops around MKL products; it is header-only, so a job can build its own fused kernel on it
(the forecaster's whole training step: :mod:`lstmkit.forecast.fused_step`).

* :func:`build_extension` compiles a kernel with ``torch.utils.cpp_extension`` (``-O3
  -march=native -ffast-math -fopenmp-simd``; about 30 s once, in a child process, saying so
  on stderr; then cached per source, CPU, torch version and Python environment). An
  already-built kernel is imported straight from its cache folder, without the build tool
  (about 10 ms instead of about 1 s). It returns None when there is no compiler, when the
  build takes longer than ``LSTMKIT_BUILD_TIMEOUT`` seconds (default 600), or with
  ``LSTMKIT_FUSED=0``; every caller then keeps the pure-torch path. A build killed midway
  leaves no lock that stops the next one. ``make`` builds the kernels during the install.
* :func:`load`: the layer's kernel; :func:`lstm_layer`: one layer with carried state,
  differentiable (an autograd Function); tested against :mod:`lstmkit.ref.lstm` in float64,
  outputs, states and gradients over two calls (``tests/test_fused.py``, ``lstmkit check``).

Weight layout: ``torch.nn.LSTM``'s own parameters (rows ``W_i|W_f|W_g|W_o``), used in place.
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
import warnings
from pathlib import Path

import torch

HERE = Path(__file__).parent  # lstm_layer.h: include it with extra_include_paths=[HERE]
_LAYER_SRC = HERE / "lstm_layer.cpp"
_BUILT: dict[str, object] = {}  # kernel name -> module (None: unavailable)
# -ffast-math lets GCC call glibc's vector expf/tanhf; -fopenmp-simd honours the gate loops'
# `omp simd` (no OpenMP runtime): without either, the gate math is 5x slower.
_FLAGS = ["-O3", "-march=native", "-ffast-math", "-fopenmp-simd"]


def _cpu_tag() -> str:
    """The kernels are built with -march=native: tie them to this CPU's features."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags"))
    except (OSError, StopIteration):
        flags = platform.processor()
    return flags


def _build_dir(name: str) -> Path:
    """Where ``torch.utils.cpp_extension`` builds ``name``: its rule, restated here so that
    loading a built kernel does not import the build tool (0.34 s, it pulls in setuptools).
    ``tests/test_fused.py`` holds it equal to torch's own ``_get_build_directory``."""
    root = os.environ.get("TORCH_EXTENSIONS_DIR")
    if root is None:
        from torch import _appdirs  # not imported by `import torch`

        root = os.path.realpath(_appdirs.user_cache_dir(appname="torch_extensions"))
        if torch.version.hip is not None:
            accelerator = f"rocm{torch.version.hip.replace('.', '')}"
        elif torch.version.cuda is not None:
            accelerator = f"cu{torch.version.cuda.replace('.', '')}"
        else:
            accelerator = "cpu"
        py = f"py{sys.version_info.major}{sys.version_info.minor}{getattr(sys, 'abiflags', '')}"
        root = os.path.join(root, f"{py}_{accelerator}")
    return Path(root) / name


def _import_built(name: str):
    """The module of an already-built kernel, imported from its .so (None if not built)."""
    import importlib.util

    try:
        so = _build_dir(name) / f"{name}.so"
    except Exception:  # private torch helper moved: fall back to the build tool
        return None
    if not so.is_file():
        return None
    spec = importlib.util.spec_from_file_location(name, so)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError:  # stale or foreign build: let the build tool redo it
        return None
    return module


def build_extension(stem: str, sources: list[Path], headers: tuple[Path, ...] = ()):
    """Compile (or import the cached build of) a C++ kernel; None where it cannot be built.

    The cache key covers the sources and headers, the flags, this CPU and the torch version.
    """
    name = kernel_name(stem, sources, headers)
    if name in _BUILT:
        return _BUILT[name]
    ext = None
    if os.environ.get("LSTMKIT_FUSED", "1") != "0":
        ext = _import_built(name)
        if ext is None and _build_in_child(name, sources, stem):
            ext = _import_built(name)
    _BUILT[name] = ext
    return ext


def kernel_name(stem: str, sources, headers) -> str:
    """``stem_<key>``: the key covers the sources and headers, the flags, this CPU, the torch
    version and the Python environment (``sys.prefix``: each build records its environment's
    paths, and two venvs sharing one build folder rebuilt each other's kernel, 25-55 s a
    time)."""
    key_bytes = b"".join(p.read_bytes() for p in (*sources, *headers))
    key = hashlib.sha1(key_bytes + " ".join(_FLAGS).encode() + _cpu_tag().encode() +
                       torch.__version__.encode() + sys.prefix.encode()).hexdigest()[:12]
    return f"{stem}_{key}"


def build_timeout() -> float:
    """Seconds a first build may take before lstmkit gives up on it and trains with torch
    (``LSTMKIT_BUILD_TIMEOUT``, default 600)."""
    try:
        return float(os.environ.get("LSTMKIT_BUILD_TIMEOUT", "600"))
    except ValueError:
        return 600.0


def _build_in_child(name: str, sources: list[Path], stem: str) -> bool:
    """Build kernel ``name`` in a child process, within :func:`build_timeout`; True if built.

    A child, so that a build past its limit can be stopped (the whole process group: the
    compiler too) and training goes on with torch. A build that was killed, here or by the
    user, leaves torch's ``lock`` file behind, on which every later build would wait forever;
    :func:`build_here` removes it, safely, because every lstmkit build holds a file lock
    (``flock``) of its own while it runs and the kernel's ``lock`` can only be stale when
    that lock is free.
    """
    import signal
    import subprocess

    print(f"lstmkit: building the fused C++ kernel {stem}, one time, ~30 s", file=sys.stderr)
    code = ("import sys; from lstmkit.nn.fused import build_here; "
            "build_here(sys.argv[1], sys.argv[2:])")
    cmd = [sys.executable, "-c", code, name, *map(str, sources)]
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
    try:
        _, err = child.communicate(timeout=build_timeout())
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        warnings.warn(f"lstmkit: the fused C++ kernel {stem} took longer than "
                      f"{build_timeout():g} s to build (LSTMKIT_BUILD_TIMEOUT); training "
                      "uses torch", RuntimeWarning, stacklevel=3)
        return False
    if child.returncode != 0:
        last = (err or b"").decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        warnings.warn(f"lstmkit: fused C++ kernel {stem} unavailable ({last[0][:200]}); "
                      "using torch", RuntimeWarning, stacklevel=3)
        return False
    return True


def build_here(name: str, sources: list[str]) -> None:
    """Compile kernel ``name`` in this process (what :func:`_build_in_child` runs)."""
    import fcntl

    from torch.utils.cpp_extension import load as build

    try:  # the ninja wheel's binary: torch looks for `ninja` on PATH
        import ninja

        os.environ["PATH"] = ninja.BIN_DIR + os.pathsep + os.environ.get("PATH", "")
    except ImportError:
        pass
    folder = _build_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lstmkit-build.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # one lstmkit build of this kernel at a time
        if (folder / f"{name}.so").is_file() and _import_built(name) is not None:
            return  # built by another process while this one waited
        (folder / "lock").unlink(missing_ok=True)  # torch's lock, left by a killed build
        build(name=name, sources=sources, extra_cflags=_FLAGS, extra_include_paths=[str(HERE)],
              verbose=False)


def load():
    """The layer's compiled kernel, or None (no compiler, build error, or ``LSTMKIT_FUSED=0``)."""
    return build_extension("lstmkit_lstm_layer", [_LAYER_SRC], (HERE / "lstm_layer.h",))


class _LSTMLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        ext = load()
        xt = x.transpose(0, 1).contiguous()  # (T, B, F)
        G, C, Hs = ext.lstm_forward(xt, h0.contiguous(), c0.contiguous(), w_ih, w_hh, b_ih,
                                    b_hh)
        ctx.save_for_backward(xt, w_ih, w_hh, G, C, Hs)
        ctx.set_materialize_grads(False)
        return Hs[1:].transpose(0, 1), Hs[-1].clone(), C[-1].clone()  # (B, T, H), h_T, C_T

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, d_out, d_hT, d_cT):
        xt, w_ih, w_hh, G, C, Hs = ctx.saved_tensors
        B, H = Hs.shape[1], Hs.shape[2]
        zeros = lambda: xt.new_zeros(B, H)
        dHs = None if d_out is None else d_out.transpose(0, 1).contiguous()  # (T, B, H)
        dx, dh0, dc0, dw_ih, dw_hh, db = load().lstm_backward(
            xt, w_ih, w_hh, G, C, Hs, dHs, zeros() if d_hT is None else d_hT.contiguous(),
            zeros() if d_cT is None else d_cT.contiguous(), ctx.needs_input_grad[0])
        dx = None if dx is None else dx.transpose(0, 1)  # (B, T, F)
        return dx, dh0, dc0, dw_ih, dw_hh, db, db


def lstm_layer(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM layer, batch-first: x (B, T, F), h0 / c0 (B, H) ->
    (outputs (B, T, H), h_T, C_T); differentiable. Needs :func:`load` to succeed."""
    return _LSTMLayer.apply(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)
