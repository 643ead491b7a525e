"""``report.html``: one self-contained page per run directory.

Built from the files of the run directory alone, so ``lstmkit report DIR`` regenerates it and
every kind of run gets the same page:

* ``summary.txt`` (what the command printed): its title, its tables as HTML tables (the
  metrics beside the baselines) and its verdict line, highlighted;
* ``history.csv``: the loss curves, one line per seed (train solid, validation dashed),
  drawn here;
* every other PNG of the directory (forecasts with dates and intervals, the confusion
  matrix, errors by step), embedded;
* timings and the hyperparameters from ``config.json`` and ``metrics.json``.

Plots are embedded as base64 PNG and the styles inline: no network, no script, no file
outside the page. The layout is one column of at most 1200 px.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path

from lstmkit.core.errors import expected

PAGE = "report.html"
SUMMARY = "summary.txt"
FIGURES = {  # file -> caption; others follow in name order
    "forecast.png": "Forecasts on the test points (actual in black)",
    "forecast_band.png": "Forecast with its intervals",
    "confusion.png": "Confusion matrix on the test sequences",
    "error_by_step.png": "Error by forecast step, every fold",
}
SKIPPED = {"loss.png"}  # redrawn from history.csv, with the seeds labelled
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
background:#f6f7f9;color:#1d2330}
main{max-width:1200px;margin:0 auto;padding:24px 32px 48px;background:#fff;min-height:100vh}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.15rem;margin:28px 0 10px;
border-bottom:1px solid #dde1e7;padding-bottom:4px}
.meta{color:#5b6472;font-size:.9rem;margin:0 0 12px}
table{border-collapse:collapse;font-size:.9rem;margin:8px 0 4px}
th,td{border:1px solid #d5d9e0;padding:4px 10px;text-align:right;white-space:nowrap}
th{background:#eef1f5}td:first-child,th:first-child{text-align:left}
caption{caption-side:top;text-align:left;font-weight:600;padding:4px 0}
.verdict{background:#eaf5ea;border-left:5px solid #2e8b3d;padding:8px 12px;font-weight:600}
.verdict.miss{background:#fdf0e6;border-left-color:#d9822b}
figure{margin:12px 0}figure img{max-width:100%;height:auto;border:1px solid #e3e6ea}
figcaption{color:#5b6472;font-size:.88rem}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:24px;align-items:start}
pre{background:#f3f4f6;padding:10px;overflow:auto;font-size:.8rem;max-height:420px}
"""


# ---------------------------------------------------------------------- summary.txt
def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"\s{2,}", line.strip())]


def summary_html(text: str) -> str:
    """``summary.txt`` as HTML: tables (a header line, a rule of dashes, rows up to a blank
    line) become tables, the verdict line a highlighted paragraph, other lines paragraphs."""
    lines = text.splitlines()
    out, i, title = [], 0, None
    while i < len(lines):
        line = lines[i]
        rule = i + 1 < len(lines) and re.fullmatch(r"[-\s]+", lines[i + 1] or "x") \
            and "-" in lines[i + 1]
        if rule:
            head, rows = _cells(line), []
            i += 2
            while i < len(lines) and lines[i].strip() and not lines[i].startswith("verdict"):
                rows.append(_cells(lines[i]))
                i += 1
            cap = f"<caption>{html.escape(title)}</caption>" if title else ""
            out.append(f'<table class="metrics">{cap}<thead><tr>'
                       + "".join(f"<th>{html.escape(h)}</th>" for h in head)
                       + "</tr></thead><tbody>"
                       + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r)
                                 + "</tr>" for r in rows) + "</tbody></table>")
            title = None
            continue
        if line.startswith("verdict"):
            miss = " miss" if "NOT" in line or "does not" in line else ""
            out.append(f'<p class="verdict{miss}">{html.escape(line)}</p>')
        elif line.strip():
            if title:
                out.append(f"<p>{html.escape(title)}</p>")
            title = line.strip()  # a table's title, if a table follows
        i += 1
    if title:
        out.append(f"<p>{html.escape(title)}</p>")
    return "\n".join(out)


# ---------------------------------------------------------------------- figures
def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")  # labels and legend kept
    return base64.b64encode(buf.getvalue()).decode()


def loss_figure(history_csv: Path) -> str | None:
    """The loss curves of ``history.csv`` as a base64 PNG: one colour per seed, train solid,
    validation dashed, log scale, the legend outside the plot."""
    import pandas as pd

    from lstmkit.core.plotting import pyplot

    h = pd.read_csv(history_csv)
    metric = next((m for m in ("loss", "ppl") if f"train_{m}" in h.columns), None)
    if metric is None or h.empty:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    seeds = list(dict.fromkeys(h["seed"])) if "seed" in h.columns else [None]
    for k, s in enumerate(seeds):
        part = h if s is None else h[h["seed"] == s]
        name = "" if s is None else f"seed {s} "
        ax.plot(part["epoch"], part[f"train_{metric}"], color=f"C{k}", lw=1.3,
                label=f"{name}train")
        if f"val_{metric}" in part.columns and part[f"val_{metric}"].notna().any():
            ax.plot(part["epoch"], part[f"val_{metric}"], color=f"C{k}", lw=1.3, ls="--",
                    label=f"{name}validation")
    if (h[[c for c in h.columns if c.endswith(metric)]] > 0).all().all():
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity" if metric == "ppl" else "loss")
    ax.set_title("Training curves")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.subplots_adjust(left=0.08, right=0.82, bottom=0.13, top=0.9)
    out = _png(fig)
    plt.close(fig)
    return out


def _figure(b64: str, caption: str) -> str:
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


# ---------------------------------------------------------------------- config and timings
def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _value(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v) if len(v) <= 12 else f"{len(v)} values"
    return str(v)


def _kv_table(rows: list[tuple[str, object]], caption: str) -> str:
    body = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(_value(v))}</td></tr>"
                   for k, v in rows)
    return f"<table><caption>{html.escape(caption)}</caption><tbody>{body}</tbody></table>"


def timings(config: dict, metrics: dict) -> list[tuple[str, object]]:
    rows = []
    if isinstance(config.get("fit_seconds"), (int, float)):
        rows.append(("fit, all seeds (s)", config["fit_seconds"]))
    if config.get("train_seconds"):
        rows.append(("training per seed (s)", config["train_seconds"]))
    seconds = metrics.get("seconds")
    if isinstance(seconds, dict):
        rows += [(f"{name} fit+predict (s)", v) for name, v in seconds.items()]
    elif isinstance(metrics.get("train_seconds"), (int, float)):
        rows.append(("training (s)", metrics["train_seconds"]))
    return rows


# ---------------------------------------------------------------------- the page
def render(run: Path, name: str | None = None) -> str:
    """The HTML of ``run``'s report page (see the module docstring); ``name``: the run
    directory's name (default ``run``'s own; a run being written is in a temporary one)."""
    run = Path(run)
    summary = (run / SUMMARY).read_text() if (run / SUMMARY).exists() else ""
    config, metrics = _read_json(run / "config.json"), _read_json(run / "metrics.json")
    headline = summary.splitlines()[0] if summary else run.name
    label = headline.split(":")[0].strip()  # "LSTM on gas-furnace"
    kind = config.get("model_class", "backtest" if (run / "backtest.csv").exists() else "run")
    meta = [f"run directory {name or run.name}", kind]
    if config.get("lstmkit_version"):
        meta.append(f"lstmkit {config['lstmkit_version']}")
    parts = [f"<h1>{html.escape(label)}</h1>",
             f'<p class="meta">{html.escape(" · ".join(meta))}</p>',
             "<h2>Results</h2>", summary_html(summary) or "<p>(no summary.txt)</p>"]
    figures = []
    if (run / "history.csv").exists():
        b64 = loss_figure(run / "history.csv")
        if b64:
            figures.append(_figure(b64, "Training curves, one colour per seed (train solid, "
                                        "validation dashed)"))
    names = [n for n in FIGURES if (run / n).exists()]
    names += sorted(p.name for p in run.glob("*.png") if p.name not in FIGURES
                    and p.name not in SKIPPED)
    if not figures and (run / "loss.png").exists():
        names.insert(0, "loss.png")
    for n in names:
        caption = FIGURES.get(n, n[:-4].replace("_", " ").capitalize())
        figures.append(_figure(base64.b64encode((run / n).read_bytes()).decode(), caption))
    if figures:
        parts += ["<h2>Plots</h2>", *figures]
    side = []
    times = timings(config, metrics)
    if times:
        side.append(_kv_table(times, "Timings"))
    params = config.get("params")
    if isinstance(params, dict):
        side.append(_kv_table(sorted(params.items()), "Hyperparameters"))
    if side:
        parts += ["<h2>Configuration and timings</h2>", f'<div class="cols">{"".join(side)}'
                                                        "</div>"]
    if config:
        parts.append("<details><summary>config.json</summary><pre>"
                     + html.escape(json.dumps(config, indent=1)[:20000]) + "</pre></details>")
    title = f"lstmkit report: {label}"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>"
            f"{html.escape(title)}</title><style>{STYLE}</style></head>\n<body><main>\n"
            + "\n".join(parts) + "\n</main></body></html>\n")


def page_writers(summary: str, out) -> dict:
    """Run-directory writers (:func:`lstmkit.core.persistence.write_run_dir`) of
    ``summary.txt`` and the page of the run ``out``; put them last: the page reads the
    files written before it."""
    name = Path(out).name
    return {SUMMARY: lambda p: p.write_text(summary.rstrip("\n") + "\n"),
            PAGE: lambda p: p.write_text(render(p.parent, name))}


def write_report(run) -> Path:
    """(Re)write ``run/report.html`` atomically from the run directory's files."""
    from lstmkit.core.persistence import atomic_write_text

    run = Path(run)
    if not run.is_dir() or not ((run / SUMMARY).exists() or (run / "config.json").exists()):
        raise expected("Report", "a run directory (with summary.txt or config.json)",
                       f"'{run}'")
    atomic_write_text(run / PAGE, render(run))
    return run / PAGE
