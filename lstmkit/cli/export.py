"""``lstmkit export``: a saved forecaster as an ONNX graph (raw window in, raw forecast out)."""

from __future__ import annotations

ORDER = 15


def register(sub) -> None:
    p = sub.add_parser("export", help="export a saved forecaster to ONNX")
    p.add_argument("--model", required=True, metavar="DIR", help="run directory of a forecaster")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="the export format")
    p.add_argument("--out", required=True, metavar="FILE.onnx", help="the file to write")
    p.add_argument("--stream", action="store_true", help="the state-in/state-out graph (one "
                   "row per call; README: Streaming)")
    p.set_defaults(func=run)


def run(args) -> int:
    from lstmkit.core.persistence import check_out_file
    from lstmkit.forecast.export import check_exportable, dynamic_time, export_onnx
    from lstmkit.registry import load

    check_out_file(args.out)  # refuse before any work
    model = load(args.model)
    check_exportable(model)
    out = export_onnx(model, args.out, stream=args.stream)
    f = model
    F, D = f"{len(f.features_)}", f"{len(f.targets_)}"
    if args.stream:
        enc = f.networks_[0].encoder
        rows = len(f.networks_) * enc.num_layers
        state = f"h0 ({rows}, batch, {enc.hidden_size})" + (
            " and c0 (same)" if enc.cell == "lstm" else "")
        print(f"wrote {out}: inputs x (batch, 1, {F}) one row of {', '.join(f.features_)}, "
              f"window (batch, {f.lookback}, {F}) the last rows, last (batch, {D}), {state}; "
              f"outputs forecast (batch, {f.horizon}, {D}) and the new state")
        return 0
    time = f"time >= {f.lookback}" if dynamic_time(f) else str(f.lookback)
    print(f"wrote {out}: inputs x (batch, {time}, {F}) = {', '.join(f.features_)} and "
          f"last (batch, {D}) = {', '.join(f.targets_)} in original units; output forecast "
          f"(batch, {f.horizon}, {D})")
    return 0
