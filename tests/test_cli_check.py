"""``lstmkit check`` reports one row per check and exits 0 only if all pass."""

from lstmkit.cli import check
from lstmkit.cli.main import main
from lstmkit.nn import fused


def test_check_passes_and_prints_table(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln.endswith(("pass", "FAIL"))]
    assert rows and all(r.endswith("pass") for r in rows)
    assert f"{len(rows)} passed, 0 failed" in out
    # every cell the reference implements: its gradient check, its per-step equations against
    # its sequence code, and the transcribed torch cells
    for cell, act in check.CELLS:
        mine = [r for r in rows if r.startswith(f"{cell}({act})")]
        assert sum("ref gradcheck" in r for r in mine) == 2, cell  # B=2 T=3 and B=1 T=1
        assert any("ref steps" in r for r in mine), cell
        assert any("transcribed cells" in r for r in mine), cell
    for cell in ("lstm(tanh)", "gru(tanh)", "rnn(tanh)", "rnn(relu)", "bi-lstm"):
        assert any(r.startswith(cell) and "torch.nn" in r for r in rows)
    assert (fused.load() is not None) == any("fused C++" in r for r in rows)


def test_check_fails_when_a_tolerance_is_violated(capsys, monkeypatch):
    monkeypatch.setattr(check, "MATCH_TOL", 0.0)  # float64 round-off now counts as failure
    assert main(["check"]) == 1
    assert "FAIL" in capsys.readouterr().out
