"""The Portuguese guide (docs/pt) stays true: every lstmkit command it shows still parses
with today's CLI, every link to a line of code still lands on the line that computes what
the link names, every image it shows exists, and every source page has its generated page.

(The commands themselves run when ``docs/pt/make_guide.py`` regenerates the guide: that
takes ~25 minutes, too long for the suite; parsing is what can rot silently.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from lstmkit.cli.main import build_parser

DOCS = Path(__file__).parents[1] / "docs" / "pt"
SOURCES = sorted((DOCS / "fontes").glob("*.md"))
PAGES = [DOCS / s.name for s in SOURCES]


def _commands(text: str) -> list[str]:
    """``lstmkit ...`` lines of the page: ``$ lstmkit`` in console blocks, ``@rodar`` in
    sources, and plain lines of ``sh`` blocks (continuations joined)."""
    out = [m.group(1) for m in re.finditer(r"^(?:\$ |@rodar |@rodar-cauda \d+ )(lstmkit .*)$",
                                           text, re.M)]
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        out += [ln.split("#")[0].strip() for ln in joined.splitlines()
                if ln.strip().startswith("lstmkit ")]
    return out


def _parses(command: str) -> None:
    argv = shlex.split(command)[1:]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help prints and exits 0; a usage error exits 2
        assert stop.code == 0, f"does not parse: {command}"
        return
    assert getattr(args, "func", None), f"no command: {command}"


def test_every_source_page_is_generated():
    assert len(SOURCES) >= 11
    for source, page in zip(SOURCES, PAGES, strict=True):
        assert page.exists(), f"{page.name} missing: run docs/pt/make_guide.py {source.stem}"
        text = page.read_text()
        assert text.startswith("<!-- Gerado por docs/pt/make_guide.py")
        assert "@rodar" not in text and "@figura" not in text and "@linha" not in text


@pytest.mark.parametrize("path", SOURCES + PAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_command_of_the_guide_parses(path):
    if not path.exists():
        pytest.skip(f"{path.name} not generated")
    commands = _commands(path.read_text())
    for command in commands:
        _parses(command)


def test_the_guide_covers_the_course_and_shows_real_output():
    text = "\n".join(p.read_text() for p in PAGES if p.exists())
    for experiment in ("fibonacci", "sine", "keras-stacked", "digits-rows", "gas-furnace",
                       "gas-furnace-gru", "autocomplete", "sentiment", "adding"):
        assert f"$ lstmkit reproduce {experiment}\n" in text, experiment
    assert "$ lstmkit gradients" in text and "$ lstmkit check\n" in text
    assert "--cell gru" in text and "vendas.csv" in text and "--level 80,95" in text
    assert "verdict: " in text  # real output, with its verdict lines


def test_code_links_land_on_the_line_they_name():
    root = DOCS.parents[1]
    links = []
    for page in PAGES:
        links += re.findall(r'\]\(\.\./\.\./([^#)]+)#L(\d+) "([^"]+)"\)', page.read_text())
    assert len(links) >= 7  # the six LSTM equations and the simple RNN's
    for path, line, text in links:
        lines = (root / path).read_text().splitlines()
        assert text.replace("'", '"') in lines[int(line) - 1] or text in lines[int(line) - 1], \
            f"{path}:{line} no longer holds {text!r}: regenerate docs/pt"


def test_every_image_exists():
    for page in PAGES:
        for image in re.findall(r"!\[[^\]]*\]\((img/[^)]+)\)", page.read_text()):
            assert (DOCS / image).exists(), f"{page.name}: {image}"


def test_readme_points_to_the_guide_in_portuguese():
    readme = (DOCS.parents[1] / "README.md").read_text()
    assert "docs/pt" in readme and "Guia em português" in readme
