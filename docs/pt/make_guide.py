"""Gera o guia em português (``docs/pt/*.md``) a partir das fontes (``docs/pt/fontes/*.md``),
executando de verdade cada comando que o guia mostra.

    .venv/bin/python docs/pt/make_guide.py                    # o guia inteiro (~25 min, 2 núcleos)
    .venv/bin/python docs/pt/make_guide.py 02-fibonacci       # só estas páginas
    .venv/bin/python docs/pt/make_guide.py --reusar           # só o texto mudou

Nenhum número nem gráfico do guia é colado à mão: cada um é a saída de um comando rodado
aqui, na pasta de trabalho ``docs/pt/.trabalho`` (fora do git). Diretivas das fontes, cada
uma sozinha numa linha:

``@rodar CMD``
    roda CMD (uma linha de shell) e insere o comando e a sua saída;
``@rodar-cauda N CMD``
    o mesmo, mostrando só as últimas N linhas da saída;
``@figura ARQUIVO | legenda``
    copia ARQUIVO (da pasta de trabalho) para ``docs/pt/img/`` e insere a imagem;
``@linha«ARQUIVO | texto»`` (em qualquer ponto de uma linha)
    um link para a primeira linha de ARQUIVO (do repositório) que contém o texto; o
    texto vai no título do link, e ``tests/test_guide_pt.py`` confere que a linha ainda o
    contém.

Um comando que falha interrompe a geração (a página não é escrita pela metade). Com
``--reusar``, os comandos que já rodaram não rodam de novo: a saída (guardada em
``.trabalho/saidas.json``) e as figuras são as da última execução; use quando só o texto
das fontes mudou.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCES = HERE / "fontes"
WORK = HERE / ".trabalho"
IMAGES = HERE / "img"
HEADER = ("<!-- Gerado por docs/pt/make_guide.py a partir de docs/pt/fontes/{name}: não edite "
          "à mão. -->\n\n")


def sales_data(folder: Path) -> None:
    """``vendas.csv`` (história) e ``futuro.csv`` (as promoções das 8 semanas seguintes):
    um painel semanal sintético de 12 lojas no formato das planilhas brasileiras (``;`` entre
    campos, vírgula decimal), com data, promoção (conhecida de antemão) e região (estática)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    weeks = pd.date_range("2021-01-03", periods=160, freq="W-SUN")
    rows, future = [], []
    for k in range(12):
        base, trend = rng.uniform(800, 2000), rng.uniform(-1, 3)
        season = rng.uniform(0.05, 0.2) * base
        region = k % 3
        promo = (rng.random(len(weeks) + 8) < 0.15).astype(int)
        t = np.arange(len(weeks) + 8)
        level = base + trend * t + season * np.sin(2 * np.pi * t / 52.18)
        y = level * (1 + 0.25 * promo) + rng.normal(0, 0.04 * base, len(t))
        for i, d in enumerate(weeks):
            rows.append((f"loja{k + 1:02d}", d.date(), round(y[i], 2), promo[i], region))
        for j in range(8):
            d = weeks[-1] + pd.Timedelta(weeks=j + 1)
            future.append((f"loja{k + 1:02d}", d.date(), promo[len(weeks) + j]))
    cols = ["unique_id", "ds", "y", "promo", "regiao"]
    pd.DataFrame(rows, columns=cols).to_csv(folder / "vendas.csv", sep=";", decimal=",",
                                            index=False)
    pd.DataFrame(future, columns=cols[:2] + ["promo"]).to_csv(folder / "futuro.csv", sep=";",
                                                              decimal=",", index=False)


CACHE = WORK / "saidas.json"  # comando -> saída da última execução (para --reusar)
REUSE = "--reusar" in sys.argv  # só o texto mudou: as saídas e figuras da última execução


def run(cmd: str, tail: int | None = None) -> str:
    """CMD rodado na pasta de trabalho (``lstmkit`` e ``python``: os do ambiente atual).
    Com ``--reusar``, a saída guardada da última vez que CMD rodou, se houver."""
    import json

    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    if REUSE and cmd in cache:
        return _block(cmd, cache[cmd].splitlines(), tail)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "COLUMNS": "100"}
    t0 = time.perf_counter()
    res = subprocess.run(cmd, shell=True, cwd=WORK, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"falhou ({res.returncode}): {cmd}\n{res.stdout[-2000:]}"
                         f"{res.stderr[-3000:]}")
    cache[cmd] = res.stdout.rstrip("\n")
    CACHE.write_text(json.dumps(cache, ensure_ascii=False, indent=1))
    print(f"  {time.perf_counter() - t0:5.0f} s  {cmd}", flush=True)
    return _block(cmd, cache[cmd].splitlines(), tail)


def _block(cmd: str, out: list[str], tail: int | None) -> str:
    if tail is not None and len(out) > tail:
        out = ["[...]"] + out[-tail:]
    return "```console\n$ " + cmd + "\n" + "\n".join(out) + "\n```\n"


def figure(page: str, spec: str) -> str:
    path, _, caption = (p.strip() for p in spec.partition("|"))
    src = WORK / path
    if not src.exists():
        raise SystemExit(f"{page}: a figura {path} não foi gerada")
    name = f"{page}-{Path(path).parent.name}-{src.name}".replace("/", "-")
    IMAGES.mkdir(exist_ok=True)
    shutil.copyfile(src, IMAGES / name)
    return f"![{caption}](img/{name})\n"


def line_link(spec: str) -> str:
    path, _, text = (p.strip() for p in spec.partition("|"))
    lines = (ROOT / path).read_text().splitlines()
    n = next((i for i, ln in enumerate(lines, 1) if text in ln), None)
    if n is None:
        raise SystemExit(f"@linha: '{text}' não está em {path}")
    quoted = text.replace('"', "'")
    return f'[`{path}`, linha {n}](../../{path}#L{n} "{quoted}")'


def clear_outputs(text: str) -> None:
    """Remove what the page's commands write (``--out X``), so that they run afresh."""
    if REUSE:
        return
    for target in re.findall(r"^@rodar.*--out (\S+)", text, re.M):
        path = WORK / target
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def render(source: Path) -> str:
    page = source.stem
    clear_outputs(source.read_text())
    out = []
    for line in source.read_text().splitlines():
        if line.startswith("@rodar-cauda "):
            n, cmd = line.split(" ", 2)[1:]
            out.append(run(cmd, int(n)))
        elif line.startswith("@rodar "):
            out.append(run(line[len("@rodar "):]))
        elif line.startswith("@figura "):
            out.append(figure(page, line[len("@figura "):]))
        else:  # @linha may sit inside a sentence or a table row
            out.append(re.sub(r"@linha«([^»]*)»", lambda m: line_link(m.group(1)), line)
                       + "\n")
    return HEADER.format(name=source.name) + "".join(out)


def main() -> None:
    flags = {a for a in sys.argv[1:] if a.startswith("-")}
    if flags - {"--reusar"}:  # -h, --help or a typo: say how to use it, run nothing
        print(__doc__)
        raise SystemExit(0 if flags <= {"-h", "--help", "--reusar"} else 2)
    chosen = {a for a in sys.argv[1:] if not a.startswith("-")}
    unknown = chosen - {s.stem for s in SOURCES.glob("*.md")}
    if unknown:
        raise SystemExit(f"make_guide: expected pages among docs/pt/fontes, got {sorted(unknown)}")
    WORK.mkdir(exist_ok=True)
    sales_data(WORK)
    for source in sorted(SOURCES.glob("*.md")):
        if chosen and source.stem not in chosen:
            continue
        print(f"{source.name}:", flush=True)
        text = render(source)
        (HERE / source.name).write_text(text)
    print(f"escrevi {HERE}/")


if __name__ == "__main__":
    main()
