"""``report.html``: every kind of run writes one, self-contained, with the metrics table and
the verdict; ``lstmkit report DIR`` regenerates it; and a real browser (headless Chromium,
Debian's ``chromium`` package; ``.ci/run`` installs it) renders it at 1280 px as a page
that is not blank, has the expected title and shows the metrics table."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from panels import synthetic_panel

from lstmkit.cli.main import main

HERE = Path(__file__).parent
BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(b)), None)


def _self_contained(page: str) -> None:
    assert "<script" not in page.lower()
    srcs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "http://" not in page and "https://" not in page


def _check_page(run: Path, title: str) -> str:
    page = (run / "report.html").read_text()
    assert f"<title>lstmkit report: {title}</title>" in page
    assert '<table class="metrics">' in page
    _self_contained(page)
    return page


@pytest.fixture(scope="module")
def single_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "gas"
    assert main(["fit", "--data", "gas-furnace", "--target", "CO2", "--epochs", "3", "--seeds",
                 "2", "--hidden-size", "8", "--quiet", "--out", str(out)]) == 0
    return out


def test_fit_writes_the_page_with_the_printed_table_and_verdict(single_run):
    page = _check_page(single_run, "LSTM on gas-furnace")
    summary = (single_run / "summary.txt").read_text()
    verdict = next(ln for ln in summary.splitlines() if ln.startswith("verdict: "))
    assert f">{verdict}</p>" in page
    for row in ("naive (last value)", "linear AR", "LSTM ×2"):
        assert f"<td>{row}</td>" in page
    assert page.count("data:image/png;base64,") == 2  # training curves + test forecasts
    assert "Training curves, one colour per seed" in page
    assert "<caption>Hyperparameters</caption>" in page and "<td>hidden_size</td>" in page
    assert "<caption>Timings</caption>" in page


def test_report_regenerates_the_same_page(single_run, tmp_path, capsys):
    run = tmp_path / "copy"
    shutil.copytree(single_run, run)
    before = (single_run / "report.html").read_text()
    (run / "report.html").unlink()
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").read_text() == before.replace(
        "run directory gas", "run directory copy")
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err.startswith("error: Report: expected a run directory")


def test_every_kind_of_run_writes_a_page(tmp_path, capsys):
    panel = tmp_path / "panel.csv"
    synthetic_panel(4).to_csv(panel, index=False)
    small = ["--hidden-size", "8", "--epochs", "2", "--quiet"]
    assert main(["fit", "--data", str(panel), "--horizon", "4", "--lookback", "12",
                 "--steps-per-epoch", "5", *small, "--out", str(tmp_path / "p")]) == 0
    _check_page(tmp_path / "p", f"global LSTM on {panel}")
    assert main(["backtest", "--data", str(panel), "--horizon", "4", "--lookback", "12",
                 "--n-windows", "2", "--steps-per-epoch", "5", *small,
                 "--out", str(tmp_path / "b")]) == 0
    _check_page(tmp_path / "b", f"global LSTM backtest on {panel}")
    assert main(["classify", "fit", "--data", "digits-rows", "--steps-per-epoch", "4", *small,
                 "--out", str(tmp_path / "c")]) == 0
    page = _check_page(tmp_path / "c", "LSTM(8, mean+max)+FCN(64, mean+max) on digits-rows")
    assert "Confusion matrix" in page
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["o governo anunciou novas medidas hoje ."] * 40))
    assert main(["text", "fit", "--corpus", str(corpus), "--min-count", "1", "--embed-size",
                 "8", "--batch-size", "4", "--bptt", "8", *small,
                 "--out", str(tmp_path / "lm")]) == 0
    page = (tmp_path / "lm" / "report.html").read_text()
    assert "<title>lstmkit report: LSTM(2x8) word-level on " in page and "test perplexity" in page
    _self_contained(page)
    capsys.readouterr()


@pytest.mark.skipif(BROWSER is None, reason="no Chromium (Debian: apt-get install chromium; "
                    ".ci/run installs it)")
def test_chromium_renders_the_page(single_run, tmp_path):
    shot = tmp_path / "shot.png"
    base = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--window-size=1280,1600", f"--user-data-dir={tmp_path / 'profile'}"]
    url = (single_run / "report.html").resolve().as_uri()
    r = subprocess.run([*base, f"--screenshot={shot}", url], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    from matplotlib.image import imread

    img = imread(shot)[..., :3]  # (1600, 1280, 3) in [0, 1]
    assert img.shape[:2] == (1600, 1280)
    ink = (img.mean(axis=2) < 0.9).mean()  # share of pixels that are not white-ish
    assert 0.02 < ink < 0.6, ink  # text, tables and plots: not blank, not one colour
    assert img.std() > 0.05
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120).stdout
    assert "<title>lstmkit report: LSTM on gas-furnace</title>" in dom
    assert '<table class="metrics">' in dom and "verdict: " in dom
    # the page fits 1280 px: the browser laid it out no wider than the window
    assert not np.all(img[:, -40:].mean(axis=2) < 0.9)


def test_ci_installs_chromium_when_it_is_missing():
    ci = (HERE.parent / ".ci" / "run").read_text()
    assert "apt-get install" in ci and "chromium" in ci
    assert subprocess.run(["bash", "-n", str(HERE.parent / ".ci" / "run")]).returncode == 0
