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
    """Refuse, before any work, an output directory that cannot be written: an empty name, an
    existing file, a non-empty directory (unless ``overwrite``), a parent that is a file or
    that this process cannot write to."""
    if isinstance(out, str) and not out.strip():
        raise expected("Output", "a directory name", "an empty one")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise expected("Output", "a directory path", f"existing file '{out}'")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise expected(
            "Output", "a new or empty directory (or --overwrite)", f"non-empty '{out}'"
        )
    _check_parent(out.absolute().parent, "Output")
    return out


def _check_parent(parent: Path, component: str) -> None:
    """The nearest existing ancestor of ``parent`` must be a writable directory."""
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise expected(component, "a path inside a directory", f"'{probe}' is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise expected(component, "a directory this process can write to", f"'{probe}'")


def check_out_file(path: str | os.PathLike) -> Path:
    """Refuse, before any work, an output file path that cannot be written (``--out`` of
    ``predict``): an empty name, a directory, a parent that does not exist or is read-only."""
    if isinstance(path, str) and not path.strip():
        raise expected("Output", "a file name", "an empty one")
    path = Path(path)
    if path.is_dir():
        raise expected("Output", "a file path", f"the directory '{path}'")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise expected("Output", "a file in an existing directory", f"'{path}'")
    _check_parent(parent, "Output")
    return path


def _clean_stale(parent: Path, name: str) -> None:
    """Remove the temporary directories of runs into ``parent/name`` whose process is gone
    (a kill during the write phase left them: ``.name.tmp-PID-XXXX``)."""
    for tmp in parent.glob(f".{name}.tmp-*"):
        try:
            pid = int(tmp.name[len(name) + 6:].split("-")[0])
            os.kill(pid, 0)  # the writer still runs: leave its directory alone
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
        except (ValueError, PermissionError, OSError):
            continue


def write_run_dir(out: str | os.PathLike, writers: dict[str, Callable[[Path], None]],
                  overwrite: bool = False) -> Path:
    """Create ``out`` atomically: each ``writers[name](path)`` writes one file.

    The files are written into a temporary directory next to ``out`` which is then
    renamed to ``out``; with ``overwrite`` an existing ``out`` is replaced only after
    the new one is complete.
    """
    out = check_out_dir(out, overwrite)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise expected("Output", "a directory that can be created", f"'{out}' ({err.strerror})") \
            from None
    _clean_stale(out.parent, out.name)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes 0700; give the usual directory permissions
    try:
        for name, write in writers.items():
            write(tmp / name)
            (tmp / name).chmod(0o666 & ~umask)  # safetensors writes 0600; the usual mode
        if overwrite and out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            _publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _publish(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out``, refusing, atomically, to replace a run another process
    published there meanwhile (an empty directory is replaced, as ``check_out_dir`` allows)."""
    import errno

    try:
        os.rename(tmp, out)  # onto a non-empty directory: ENOTEMPTY, whoever made it
    except OSError as err:
        if err.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise expected("Output", "a new or empty directory (or --overwrite)",
                           f"'{out}', written by another run meanwhile") from None
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; the mode of an ordinary file
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
