"""``lstmkit export``: a saved forecaster as an ONNX graph (raw window in, raw forecast out)."""

from __future__ import annotations

ORDER = 15


def register(sub) -> None:
    p = sub.add_parser("export", help="export a saved forecaster to ONNX")
    p.add_argument("--model", required=True, metavar="DIR", help="run directory of a forecaster")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="the export format")
    p.add_argument("--out", required=True, metavar="FILE.onnx", help="the file to write")
    p.set_defaults(func=run)


def run(args) -> int:
    from lstmkit.core.persistence import check_out_file
    from lstmkit.forecast.export import check_exportable, export_onnx
    from lstmkit.registry import load

    check_out_file(args.out)  # refuse before any work
    model = load(args.model)
    check_exportable(model)
    out = export_onnx(model, args.out)
    f = model
    print(f"wrote {out}: inputs x (batch, {f.lookback}, {len(f.features_)}) = "
          f"{', '.join(f.features_)} and last (batch, {len(f.targets_)}) = "
          f"{', '.join(f.targets_)} in original units; output forecast (batch, {f.horizon}, "
          f"{len(f.targets_)})")
    return 0
