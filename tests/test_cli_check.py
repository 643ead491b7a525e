"""``lstmkit check`` reports one row per check and exits 0 only when all pass."""

from lstmkit.cli import check
from lstmkit.cli.main import main


def test_check_passes_and_prints_table(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln.endswith(("pass", "FAIL"))]
    assert len(rows) == 39 and all(r.endswith("pass") for r in rows)
    for cell in ("lstm(tanh)", "gru(tanh)", "rnn(tanh)", "rnn(relu)", "bi-lstm"):
        assert any(r.startswith(cell) and "torch.nn" in r for r in rows)
    assert any(r.startswith("lnlstm(tanh)") and "gradcheck" in r for r in rows)
    assert "39 passed, 0 failed" in out


def test_check_fails_when_a_tolerance_is_violated(capsys, monkeypatch):
    monkeypatch.setattr(check, "MATCH_TOL", 0.0)  # float64 round-off now counts as failure
    assert main(["check"]) == 1
    assert "FAIL" in capsys.readouterr().out
