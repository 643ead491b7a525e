"""Run directories: atomic writes, ``model.safetensors`` + ``config.json``, never pickle.

A run directory is assembled in a temporary sibling directory and renamed into
place only when every file is written, so a crash or an error never leaves a
partial directory behind. Weights are loaded with ``safetensors`` (plain
tensors, no code execution); nothing here calls ``pickle`` or ``torch.load``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from lstmkit.core.errors import LstmkitError, expected
from lstmkit.core.version import __version__

FORMAT_VERSION = 1  # bump when config.json changes incompatibly
REQUIRED_FILES = ("model.safetensors", "config.json")


def check_out_dir(out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Refuse an output directory that exists and is not empty (unless ``overwrite``)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise expected("Output", "a directory path", f"existing file '{out}'")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise expected(
            "Output", "a new or empty directory (or --overwrite)", f"non-empty '{out}'"
        )
    return out


def write_run_dir(out: str | os.PathLike, writers: dict[str, Callable[[Path], None]],
                  overwrite: bool = False) -> Path:
    """Create ``out`` atomically: each ``writers[name](path)`` writes one file.

    The files are written into a temporary directory next to ``out`` which is then
    renamed to ``out``; with ``overwrite`` an existing ``out`` is replaced only after
    the new one is complete.
    """
    out = check_out_dir(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes 0700; give the usual directory permissions
    try:
        for name, write in writers.items():
            write(tmp / name)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def json_writer(obj) -> Callable[[Path], None]:
    return lambda p: p.write_text(json.dumps(obj, indent=2, allow_nan=True) + "\n")


def weights_writer(tensors: dict[str, torch.Tensor]) -> Callable[[Path], None]:
    contiguous = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    return lambda p: save_file(contiguous, str(p), metadata={"lstmkit": __version__})


def read_run_dir(path: str | os.PathLike) -> tuple[dict, dict[str, torch.Tensor]]:
    """Read and check ``config.json`` and ``model.safetensors`` of a run directory."""
    path = Path(path)
    if not path.is_dir():
        raise expected("Model", "a run directory", f"'{path}' (not a directory)")
    missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    if missing:
        raise expected("Model", "a run directory with " + " and ".join(REQUIRED_FILES),
                       f"'{path}' missing {', '.join(missing)}")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise expected("Model", "a valid config.json", f"unreadable file ({err})") from None
    if not isinstance(config, dict) or "format_version" not in config:
        raise expected("Model", "a config.json written by lstmkit", "no format_version")
    fmt = config["format_version"]
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
        raise expected(
            "Model",
            f"a config of format <= {FORMAT_VERSION} (lstmkit {__version__})",
            f"format {fmt} from lstmkit {config.get('lstmkit_version', '?')}; upgrade lstmkit",
        )
    try:
        tensors = load_file(str(path / "model.safetensors"))
    except Exception as err:  # safetensors raises its own error types
        raise LstmkitError(f"Model: expected a readable model.safetensors, got {err}") from None
    return config, tensors


def seed_tensors(seeds: list[int], networks: list) -> dict[str, torch.Tensor]:
    """One flat tensor dict for several seeds' networks: ``seed{s}.{parameter name}``."""
    return {f"seed{s}.{k}": v for s, net in zip(seeds, networks, strict=True)
            for k, v in net.state_dict().items()}


def load_seed_networks(build: Callable[[], torch.nn.Module], seeds: list[int],
                       tensors: dict[str, torch.Tensor]) -> list:
    """Inverse of :func:`seed_tensors`: ``build()`` a network per seed and load its weights."""
    networks = []
    for s in seeds:
        net = build()
        prefix = f"seed{s}."
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        try:
            net.load_state_dict(state)
        except RuntimeError as err:
            first = str(err).splitlines()[0]
            raise expected("Model", "weights matching config.json", first) from None
        networks.append(net.eval())
    return networks
