"""The ``lstmkit`` command.

Each command lives in its own module under :mod:`lstmkit.cli` and exposes
``register(subparsers)``, which adds its sub-parser and sets ``func``; modules are
found automatically and listed in the order of their ``ORDER`` attribute.
User errors (:class:`lstmkit.core.errors.LstmkitError`) print one line to stderr and
exit with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from lstmkit import __version__
from lstmkit.core.errors import LstmkitError


def command_modules() -> list:
    """Modules under lstmkit.cli that provide ``register(subparsers)``, in help order."""
    import lstmkit.cli as pkg

    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name in ("main",) or info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"lstmkit.cli.{info.name}")
        if hasattr(mod, "register"):
            found.append(mod)
    return sorted(found, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


class _Parser(argparse.ArgumentParser):
    """argparse parser whose usage errors follow our one-line convention (exit 2), and whose
    help shows every option's default (:class:`lstmkit.cli.options.HelpFormatter`)."""

    def __init__(self, *args, **kw):
        from lstmkit.cli.options import HelpFormatter

        kw.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kw)

    def error(self, message: str):  # pragma: no cover - exercised via CLI tests
        self.exit(2, f"error: {self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lstmkit", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"lstmkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mod in command_modules():
        mod.register(sub)
    return parser


def _terminate(signum, frame):  # SIGTERM: stop as ^C does (cleanup, one line, exit 130)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import signal

    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave signals alone
        pass
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # usage errors (2), --help / --version (0)
        return int(stop.code or 0)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what was typed (cli.panel)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except LstmkitError as err:
        from lstmkit.core.distributed import rank

        if rank() != 0:  # torchrun: rank 0 alone reports (every rank refuses alike)
            return 2
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    finally:
        _leave_process_group()


def _leave_process_group() -> None:
    """torchrun: leave the process group cleanly (torch warns about one left open)."""
    if "torch.distributed" in sys.modules:
        from lstmkit.core.distributed import leave

        leave()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
