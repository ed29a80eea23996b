"""Input checks and text normalisation for topic modelling.

Rules (documented in :func:`opskit.analytics.topics.find_topics`):

* text is lower-cased; tokens are words of at least two letters (apostrophes
  dropped first, digits never part of a word); redaction masks (``XXXX``, as in
  the CFPB narratives) and URL pieces are dropped; English
  stop words, a short list of complaint filler words and pure opinion words
  (:data:`OPINION_WORDS`: "bad", "worst", "love" ... which the sentiment score
  covers) are dropped;
* a document needs at least :data:`MIN_CONTENT_WORDS` content words to be used
  for *fitting* the topics; every document is then *assigned*, and one with no
  known content word at all (empty, missing, stop words only) gets topic ``-1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import (
    ENGLISH_STOP_WORDS,
    CountVectorizer,
    TfidfTransformer,
)

__all__ = [
    "EXTRA_STOP_WORDS",
    "MIN_CONTENT_WORDS",
    "OPINION_WORDS",
    "Analyzer",
    "Tfidf",
    "analyzer",
    "check_column",
    "features",
    "text_series",
    "tokenize",
]

#: Documents with fewer content words are not used to fit topics (still assigned).
MIN_CONTENT_WORDS = 2
MAX_TERMS = 20_000
#: Filler words common in complaints that carry no theme.
EXTRA_STOP_WORDS = frozenset(
    [
        "please",
        "just",
        "really",
        "get",
        "got",
        "also",
        "even",
        "would",
        "could",
        "im",
        "ive",
        "dont",
        "doesnt",
        "didnt",
        "cant",
        "wont",
        "isnt",
        "thats",
        "one",
        "thing",
        "things",
        "still",
        "lot",
        "way",
        "make",
        "makes",
        "made",
        "want",
        "wanted",
        "need",
        "know",
        "like",
        "time",
        "times",
        "going",
        "use",
        "using",
        "used",
        "say",
        "said",
        "tell",
        "told",
        "ok",
        "okay",
        "hi",
        "hello",
        "thank",
        "thanks",
        "yes",
        "its",
        "ive",
        "youre",
        "theyre",
        "doesnt",
        "isnt",
        "wasnt",
        "arent",
        "couldnt",
        "shouldnt",
        "wouldnt",
        "havent",
        "hasnt",
        "id",
        "ill",
        "lets",
    ]
)
#: Pure opinion words: they say *how* the writer feels, not *what* went wrong, so
#: they are left to the sentiment score and kept out of the topics.
OPINION_WORDS = frozenset(
    [
        "good",
        "great",
        "excellent",
        "amazing",
        "awesome",
        "love",
        "loved",
        "like",
        "liked",
        "best",
        "better",
        "nice",
        "perfect",
        "fantastic",
        "wonderful",
        "bad",
        "worse",
        "worst",
        "terrible",
        "horrible",
        "awful",
        "poor",
        "useless",
        "pathetic",
        "garbage",
        "trash",
        "rubbish",
        "stupid",
        "hate",
        "hated",
        "sucks",
        "suck",
        "disappointed",
        "disappointing",
        "annoying",
        "frustrating",
        "ridiculous",
        "experience",
        "fine",
        "ok",
        "okay",
    ]
)
#: Words of two or more letters, except redaction masks (``xx``, ``xxxx``).
_TOKEN = re.compile(r"\b(?!x+\b)[^\W\d_]{2,}\b")
_APOSTROPHES = str.maketrans("", "", "'\u2019")
#: Leftovers of URLs, which the tokeniser splits into words.
_URL_WORDS = frozenset({"http", "https", "www", "com", "html"})


def tokenize(text: str) -> list[str]:
    """Lower-case words of ``text`` (apostrophes dropped first, so ``can't`` -> ``cant``)."""
    return _TOKEN.findall(text.lower().translate(_APOSTROPHES))


@dataclass(frozen=True)
class Analyzer:
    """Text -> content words (unigrams) followed by their adjacent pairs (bigrams).

    Stop words are removed before the pairs are formed (as scikit-learn does).
    """

    stop_words: frozenset[str]

    def words(self, text: str) -> list[str]:
        """The content words of ``text``."""
        stop = self.stop_words
        return [t for t in tokenize(text) if t not in stop]

    def __call__(self, text: str) -> list[str]:
        return features(self.words(text))


def features(words: list[str]) -> list[str]:
    """Unigrams plus bigrams of a word list."""
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def analyzer(extra_stop_words: Iterable[str] = ()) -> Analyzer:
    """The analyzer with the default stop words plus ``extra_stop_words``."""
    return Analyzer(
        frozenset(ENGLISH_STOP_WORDS)
        | EXTRA_STOP_WORDS
        | OPINION_WORDS
        | _URL_WORDS
        | {w.lower() for w in extra_stop_words}
    )


def check_column(frame: pd.DataFrame, column: str | None, role: str) -> None:
    """Raise a clear ``ValueError`` if the named column is missing."""
    if column is not None and column not in frame.columns:
        raise ValueError(
            f"{role} column {column!r} not found; columns are {list(frame.columns)}"
            + ("" if role == "text" else f" (pass {role}=None to skip)")
        )


def text_series(frame: pd.DataFrame, column: str) -> pd.Series:
    """The text column as ``str`` (missing -> ``""``), after validation.

    Raises
    ------
    ValueError
        Empty frame, missing column, non-text column, or no non-empty text.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if frame.empty:
        raise ValueError("frame is empty: there are no complaints to cluster")
    check_column(frame, column, "text")
    col = frame[column]
    if not (pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col)):
        raise ValueError(f"text column {column!r} must hold strings, got dtype {col.dtype}")
    present = col.dropna()
    bad = present[[not isinstance(v, str) for v in present]]
    if len(bad):
        raise ValueError(
            f"text column {column!r} must hold strings; {len(bad)} value(s) are not "
            f"(e.g. {bad.iloc[0]!r} of type {type(bad.iloc[0]).__name__})"
        )
    texts = col.fillna("").astype(str)
    if not texts.str.strip().astype(bool).any():
        raise ValueError(f"every text in column {column!r} is empty or missing")
    return texts.reset_index(drop=True)


def _identity(features: list[str]) -> list[str]:
    return features


@dataclass
class Tfidf:
    """TF-IDF over pre-analysed features, fitted on *distinct* texts with multiplicities.

    Equivalent to scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` on the
    full corpus (document frequencies count every copy of a text), but each
    distinct text is analysed once. Limits, sized to the corpus of ``n`` texts:
    ``min_df`` 3 from 1,000 texts up, 2 from 50, else 1; ``max_df`` 50 % from 50
    texts up (drops words in nearly every complaint, like the product name),
    else none; at most 20,000 terms (the most frequent).
    """

    counter: CountVectorizer
    transformer: TfidfTransformer

    @classmethod
    def fit(
        cls, features: list[list[str]], multiplicity: np.ndarray
    ) -> tuple[Tfidf, sp.csr_matrix]:
        """Fit on distinct feature lists; return the model and their TF-IDF rows.

        Raises
        ------
        ValueError
            If no term survives the limits.
        """
        n = int(multiplicity.sum())
        counter0 = CountVectorizer(analyzer=_identity, dtype=np.float32)
        counts = counter0.fit_transform(features)
        df = np.asarray((counts > 0).T @ multiplicity).ravel()
        total = np.asarray(counts.T @ multiplicity).ravel()
        min_df = 3 if n >= 1000 else 2 if n >= 50 else 1
        max_df = 0.5 * n if n >= 50 else n
        ok = np.flatnonzero((df >= min_df) & (df <= max_df))
        if len(ok) == 0:
            raise ValueError(
                f"no word appears in at least {min_df} and at most {max_df:.0f} of {n} texts"
            )
        ok = np.sort(ok[np.argsort(-total[ok], kind="stable")[:MAX_TERMS]])
        terms = counter0.get_feature_names_out()[ok]
        counter = CountVectorizer(analyzer=_identity, vocabulary=list(terms), dtype=np.float32)
        counts = sp.csr_matrix(counts[:, ok])
        transformer = TfidfTransformer(sublinear_tf=True).fit(counts)
        # Smooth IDF as scikit-learn computes it, from the document frequencies of all copies.
        transformer.idf_ = np.log((1.0 + n) / (1.0 + df[ok])) + 1.0
        return cls(counter, transformer), sp.csr_matrix(
            transformer.transform(counts), dtype=np.float32
        )

    def transform(self, features: list[list[str]]) -> sp.csr_matrix:
        """TF-IDF rows of feature lists (unknown terms ignored)."""
        x = self.transformer.transform(self.counter.transform(features))
        return sp.csr_matrix(x, dtype=np.float32)

    def terms(self) -> np.ndarray:
        """The vocabulary, in column order."""
        return np.asarray(self.counter.get_feature_names_out())
