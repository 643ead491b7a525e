"""Brazilian spreadsheets: `;` between fields and decimal commas, read right or refused with
the hint, never silently misread; duplicate header names refused."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.cli.main import main
from lstmkit.core.errors import LstmkitError
from lstmkit.forecast.data import load_frame, select_columns


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_the_semicolon_and_decimal_comma_convention_is_recognised(tmp_path):
    p = _write(tmp_path, "vendas.csv", "preco;unidades\n1,5;10\n2,25;12\n-0,75;9\n")
    f = load_frame(p)
    assert list(f.columns) == ["preco", "unidades"]
    np.testing.assert_array_equal(select_columns(f, ["preco"]).ravel(), [1.5, 2.25, -0.75])
    np.testing.assert_array_equal(select_columns(f, ["unidades"]).ravel(), [10, 12, 9])


def test_explicit_sep_and_decimal(tmp_path):
    p = _write(tmp_path, "a.txt", "a|b\n1,5|2\n3,0|4\n")
    f = load_frame(p, sep="|", decimal=",")
    np.testing.assert_array_equal(select_columns(f, ["a"]).ravel(), [1.5, 3.0])
    with pytest.raises(LstmkitError, match=r"^Data: expected decimal '\.' or ','"):
        load_frame(p, decimal=";")


def test_decimal_commas_in_a_comma_separated_file_are_refused_with_the_hint(tmp_path):
    # the reported case: `0,0` / `1,7` became an index column and the decimals the data
    p = _write(tmp_path, "x.csv", "y\n0,0\n1,7\n2,5\n")
    with pytest.raises(LstmkitError, match=r"^Data: expected at most 1 fields per row .*, got "
                                           r"2 in data row 1; decimal commas\? use --decimal ,"):
        load_frame(p)


def test_a_decimal_comma_column_under_another_separator_gets_the_hint(tmp_path):
    p = _write(tmp_path, "t.tsv", "y\tx\n1,5\t2\n2,5\t3\n")
    f = load_frame(p)
    with pytest.raises(LstmkitError, match=r"'1,5' at row 0 \(0-based\); decimal commas\? "
                                           r"use --decimal ,"):
        select_columns(f, ["y"])
    np.testing.assert_array_equal(select_columns(load_frame(p, decimal=","), ["y"]).ravel(),
                                  [1.5, 2.5])


def test_duplicate_header_names_are_refused(tmp_path):
    p = _write(tmp_path, "d.csv", "a,a,b\n1,2,3\n4,5,6\n")
    with pytest.raises(LstmkitError, match=r"^Data: expected unique column names in .*, got "
                                           r"'a' twice$"):
        load_frame(p)


def test_the_cli_fits_a_brazilian_csv(tmp_path, capsys):
    t = np.arange(80)
    rows = "\n".join(f"{np.sin(i / 4):.3f};{np.cos(i / 6):.3f}".replace(".", ",") for i in t)
    p = _write(tmp_path, "serie.csv", "vazao;chuva\n" + rows + "\n")
    assert main(["fit", "--data", str(p), "--epochs", "2", "--quiet", "--workers", "1",
                 "--out", str(tmp_path / "m")]) == 0
    assert "vazao" in capsys.readouterr().out
    assert main(["predict", "--model", str(tmp_path / "m"), "--data", str(p), "--sep", ";",
                 "--decimal", ","]) == 0
    assert "vazao" in capsys.readouterr().out
