"""``lstmkit check`` reports one row per check and exits 0 only when all pass."""

from lstmkit.cli import check
from lstmkit.cli.main import main
from lstmkit.nn import fused

N = 39 + (fused.load() is not None)  # + the fused C++ layer where it compiled


def test_check_passes_and_prints_table(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln.endswith(("pass", "FAIL"))]
    assert len(rows) == N and all(r.endswith("pass") for r in rows)
    for cell in ("lstm(tanh)", "gru(tanh)", "rnn(tanh)", "rnn(relu)", "bi-lstm"):
        assert any(r.startswith(cell) and "torch.nn" in r for r in rows)
    assert any(r.startswith("lnlstm(tanh)") and "gradcheck" in r for r in rows)
    assert f"{N} passed, 0 failed" in out
    assert (fused.load() is not None) == any("fused C++" in r for r in rows)


def test_check_fails_when_a_tolerance_is_violated(capsys, monkeypatch):
    monkeypatch.setattr(check, "MATCH_TOL", 0.0)  # float64 round-off now counts as failure
    assert main(["check"]) == 1
    assert "FAIL" in capsys.readouterr().out
