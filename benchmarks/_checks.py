"""What the benchmark scripts share: printing their PASS/FAIL lines, writing a forecast."""

from __future__ import annotations


def finish(checks: list[tuple[str, bool]], forecast=None, path=None) -> int:
    """Print a PASS/FAIL line per ``(what, ok)``, write ``forecast`` (a DataFrame) to ``path``
    when one is given; the exit code: 0 only when every check passed."""
    print("\n" + "\n".join(f"{'PASS' if ok else 'FAIL'}  {what}" for what, ok in checks))
    if path:
        forecast.to_csv(path, index=False)
        print(f"wrote {path}")
    return 0 if all(ok for _, ok in checks) else 1
