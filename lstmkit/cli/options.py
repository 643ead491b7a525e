"""Command-line options generated from the config dataclasses, and the shared help format.

An estimator's hyperparameters are declared once, as fields of its config dataclasses
(:mod:`lstmkit.core.config`). :func:`add_estimator_options` turns each field into one option:
``--hidden-size`` for ``hidden_size``, the field's check as the option's type (the CLI refuses
exactly what the Python API refuses), the estimator's default, and the field's help line.
:func:`estimator_kwargs` reads them back into keyword arguments, so no command maps options to
arguments by hand. :class:`HelpFormatter` adds the default (or "required") to every option's
help, so every ``--help`` shows both.
"""

from __future__ import annotations

import argparse

from lstmkit.core.config import field_check
from lstmkit.core.validate import ParseError


class HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, or says that it is required."""

    def _get_help_string(self, action) -> str:
        text = action.help or ""
        if action.help is argparse.SUPPRESS or isinstance(action, (argparse._HelpAction,
                                                                   argparse._VersionAction,
                                                                   argparse._SubParsersAction)):
            return text
        if "(default" in text or "(required" in text:
            return text
        if action.required:
            return f"{text} (required)".strip()
        if not action.option_strings:  # a positional argument
            return text if action.nargs != "?" else f"{text} (optional)"
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            return f"{text} (default: off)".strip()
        return f"{text} (default: {_show(action.default)})".strip()


def _show(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def option_type(parse, name: str = "value"):
    """An argparse ``type`` from a parse function that raises :class:`ParseError`."""

    def convert(text: str):
        try:
            return parse(text)
        except ParseError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = name
    return convert


def flag_name(f) -> str:
    return f.metadata.get("cli") or "--" + f.name.replace("_", "-")


def add_estimator_options(parser, spec, *, sections: tuple[str, ...] | None = None,
                          skip: tuple[str, ...] = (), title: str | None = None) -> None:
    """One option per hyperparameter of an estimator's ``spec``
    (:class:`lstmkit.core.config.ParamSpec`; all its sections, or ``sections``)."""
    spec = getattr(spec, "spec", spec)  # an estimator class works too
    group = parser.add_argument_group(title) if title else parser
    for section, f in spec.param_fields():
        if f.name in skip or (sections is not None and section not in sections):
            continue
        check = field_check(spec.config_of(section), f)
        default = spec.default(f.name)
        help_text = f.metadata.get("help", "")
        if check.kind == "bool" and not check.optional:
            action = "store_false" if default else "store_true"
            name = flag_name(f) if f.metadata.get("cli") or not default else \
                "--no-" + f.name.replace("_", "-")
            group.add_argument(name, dest=f.name, action=action, default=default,
                               help=help_text)
            continue
        kw = {"type": option_type(check.parse, f.name), "default": default, "dest": f.name,
              "help": help_text + f" (default: {_show(default)})"}
        if check.kind == "choice" and not check.optional:
            kw["choices"] = list(check.choices)
        elif check.kind == "choice":
            kw["metavar"] = "{" + ",".join(map(str, check.choices)) + ",none}"
        elif check.kind == "bool":
            kw["metavar"] = "{true,false,none}"
        else:
            kw["metavar"] = {"int": "N", "float": "X"}.get(check.kind, "VALUE")
        group.add_argument(flag_name(f), **kw)


def estimator_kwargs(args, spec) -> dict:
    """The estimator's keyword arguments from parsed options (the ones this command has)."""
    spec = getattr(spec, "spec", spec)
    return {name: getattr(args, name) for name in spec.names() if hasattr(args, name)}


def add_estimator_groups(parser, spec, model_sections: tuple[str, ...], title: str) -> None:
    """A fit command's options in three groups: the model (``model_sections``), its training
    (``train``, ``ensemble``/``seeding``) and the execution settings (not saved)."""
    spec = getattr(spec, "spec", spec)
    training = tuple(s for s in spec.sections if s not in model_sections)
    add_estimator_options(parser, spec, sections=model_sections, title=title)
    add_estimator_options(parser, spec, sections=training, title="training")
    add_estimator_options(parser, spec, sections=("execution",),
                          title="execution (not saved with the model)")


def add_column_args(parser) -> None:
    """``--features`` / ``--target``: comma-separated column lists (default: every column)."""
    from lstmkit.core.validate import columns

    parser.add_argument("--features", type=columns, metavar="COLS",
                        help="input columns, comma-separated (default: every column)")
    parser.add_argument("--target", type=columns, metavar="COLS",
                        help="target columns, comma-separated (default: every column)")


def add_out_args(parser, what: str = "run directory to write", **kw) -> None:
    """``--out DIR`` and ``--overwrite``."""
    parser.add_argument("--out", metavar="DIR", help=what, **({"required": True} | kw))
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")


def checkpointed(out, fit) -> bool:
    """Run ``fit(folder)`` with the checkpoint folder of ``--out`` (``.DIR.checkpoint``);
    on ^C say where the last checkpoint is (or that there is none) and return False."""
    import sys

    from lstmkit.core.checkpoint import checkpoint_folder, interrupted_message

    folder = checkpoint_folder(out)
    try:
        fit(folder)
    except KeyboardInterrupt:
        print(interrupted_message(folder), file=sys.stderr)
        return False
    return True


def add_resume_arg(parser) -> None:
    """``--resume``: the fits that checkpoint every epoch beside ``--out``."""
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted run into the same --out, from its last "
                             "checkpoint (every epoch; the result is bitwise the uninterrupted "
                             "one)")


def add_data_args(p, fillna: bool = True) -> None:
    p.add_argument("--data", required=True, metavar="NAME|PATH",
                   help="bundled dataset (see `lstmkit datasets`) or a CSV/Parquet file")
    if fillna:
        p.add_argument("--fillna", choices=["ffill", "interpolate", "drop"],
                       help="repair NaN/inf in the used columns (default: refuse them)")
    p.add_argument("--sep", metavar="CHAR",
                   help="field separator of the text files read (--data, and --test-data "
                        "where there is one; default: sniffed)")
    p.add_argument("--decimal", choices=[".", ","],
                   help="decimal mark of a text file (default: '.', or ',' for the ';' + "
                        "decimal-comma convention of Brazilian spreadsheets)")


def add_device_arg(p) -> None:
    """``--device`` for the commands that run a saved model (fit has it from the config)."""
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default=None,
                   help="where the networks predict: auto (CUDA when torch sees a GPU), cpu "
                        "or cuda (default: auto)")


def apply_device(model, args):
    """``model`` with the ``--device`` of ``args`` set (an execution setting, never saved)."""
    if getattr(args, "device", None) and "device" in model.get_params():
        from lstmkit.core.device import resolve_device

        resolve_device(args.device)  # refuse cuda without a GPU before any work
        model.set_params(device=args.device)
    return model
