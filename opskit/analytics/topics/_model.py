"""TF-IDF + NMF topic model: automatic topic count, labels, assignment.

Automatic topic count (``n_topics="auto"``)
-------------------------------------------
Stability analysis (Greene, O'Callaghan & Cunningham, 2014, "How many topics?
Stability analysis for topic models"): a topic count is good when the topics
come back when the data are perturbed. On a sample of at most
:data:`SELECTION_SAMPLE` fitting documents (restricted to the
:data:`SELECTION_TERMS` most common terms), for every ``k`` in
:data:`AUTO_RANGE`, NMF (NNDSVDa start, :data:`MAX_ITER_SELECTION` iterations)
is fitted on :data:`SELECTION_RUNS` random 80 % subsamples; the topic-term vectors of each pair of runs are
matched one-to-one (Hungarian algorithm on cosine similarity) and the mean
matched similarity is the stability of ``k``. Among the counts within
:data:`STABILITY_TIE` of the best stability, the largest wins (the most detail
that is still as stable as the best). The range (6, 8, ..., 16) starts at 6 because
fewer themes are rarely actionable and stops at 16 because more are unreadable;
it shrinks on small corpora (at most one topic per 20 fitting documents).

Caveat: on a few thousand documents the stability estimate moves by about
0.05 between seeds, so the chosen count can change with ``random_state``
(``tables["model_selection"]`` shows the scores). Pass an explicit
``n_topics`` when results must be compared across runs or periods.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from opskit.analytics.topics._prepare import (
    MIN_CONTENT_WORDS,
    Analyzer,
    Tfidf,
    analyzer,
    features,
)

__all__ = ["AUTO_RANGE", "FittedTopics", "TopicModel", "fit_topic_model"]

AUTO_RANGE = range(6, 17, 2)
SELECTION_SAMPLE = 1500
SELECTION_RUNS = 3
SELECTION_TERMS = 1500
MAX_ITER_SELECTION = 100
STABILITY_TIE = 0.01
DOCS_PER_TOPIC = 20
MAX_ITER = 200
UNASSIGNED = -1
UNASSIGNED_LABEL = "(unassigned: no known content words)"
N_TOP_TERMS = 10
LABEL_TERMS = 3


def _nmf(k: int, seed: int, max_iter: int = MAX_ITER, init: str = "nndsvda") -> NMF:
    return NMF(n_components=k, init=init, random_state=seed, max_iter=max_iter, tol=1e-4)


def _fit_w(model: NMF, x: sp.csr_matrix) -> np.ndarray:
    # One BLAS thread: the matrices are small, and threads only contend (3x slower on 2 cores).
    with warnings.catch_warnings(), threadpool_limits(1):
        # A fixed iteration budget keeps the run time bounded; topics are stable long before.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return np.asarray(model.fit_transform(x))


def _transform(model: NMF, x: sp.csr_matrix) -> np.ndarray:
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return np.asarray(model.transform(x))


def _unit_rows(h: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(h, axis=1, keepdims=True)
    return h / np.where(norm > 0, norm, 1.0)


def select_n_topics(x: sp.csr_matrix, mult: np.ndarray, random_state: int) -> pd.DataFrame:
    """Stability of each candidate topic count (see the module doc).

    Returns
    -------
    pandas.DataFrame
        ``n_topics, stability, is_chosen``.
    """
    rng = np.random.default_rng(random_state)
    # Sample documents (every copy of a text counts), then look up their distinct rows.
    doc_rows = np.repeat(np.arange(x.shape[0]), mult)
    n = len(doc_rows)
    rows = doc_rows[np.sort(rng.choice(n, min(n, SELECTION_SAMPLE), replace=False))]
    xs = x[rows]
    df = np.asarray((xs > 0).sum(axis=0)).ravel()
    keep = np.sort(np.argsort(-df, kind="stable")[:SELECTION_TERMS])
    xs = xs[:, keep]
    ks = [k for k in AUTO_RANGE if k * DOCS_PER_TOPIC <= xs.shape[0]] or [
        max(2, min(AUTO_RANGE.start, xs.shape[0] // DOCS_PER_TOPIC))
    ]
    m = xs.shape[0]
    subsamples = [
        np.sort(rng.choice(m, int(0.8 * m), replace=False)) for _ in range(SELECTION_RUNS)
    ]
    scores = []
    for k in ks:
        hs = []
        for run, sub in enumerate(subsamples):
            model = _nmf(k, random_state + run, max_iter=MAX_ITER_SELECTION, init="nndsvda")
            _fit_w(model, xs[sub])
            hs.append(_unit_rows(np.asarray(model.components_)))
        sims = []
        for a in range(len(hs)):
            for b in range(a):
                s = hs[a] @ hs[b].T
                r, c = linear_sum_assignment(-s)
                sims.append(float(s[r, c].mean()))
        scores.append(float(np.mean(sims)))
    best = max(scores)
    chosen = max(k for k, s in zip(ks, scores, strict=True) if s >= best - STABILITY_TIE)
    return pd.DataFrame(
        {"n_topics": ks, "stability": scores, "is_chosen": [k == chosen for k in ks]}
    )


def _label(terms: list[str]) -> str:
    chosen: list[str] = []
    words: set[str] = set()
    for term in terms:
        parts = set(term.split())
        if parts <= words:
            continue
        chosen.append(term)
        words |= parts
        if len(chosen) == LABEL_TERMS:
            break
    return " / ".join(chosen)


@dataclass
class TopicModel:
    """A fitted analyser + TF-IDF + NMF, with the topic labels and top terms."""

    analyzer: Analyzer
    tfidf: Tfidf
    nmf: NMF
    labels: list[str]
    top_terms: list[list[str]]
    term_weights: pd.DataFrame
    selection: pd.DataFrame | None

    @property
    def n_topics(self) -> int:
        return len(self.labels)

    def weights(self, texts: pd.Series) -> np.ndarray:
        """Non-negative topic weights of ``texts`` (rows of zeros: no known word)."""
        return _transform(self.nmf, self.tfidf.transform([self.analyzer(t) for t in texts]))

    def assign(self, texts: pd.Series) -> pd.DataFrame:
        """``topic_id, label, weight`` per text (``weight`` = the topic's share of the text)."""
        return assign_from_weights(self.weights(texts), self.labels)


def assign_from_weights(w: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """Hard assignment: the heaviest topic; ``-1`` when a text has no topic weight."""
    total = w.sum(axis=1)
    has = total > 0
    topic = np.where(has, w.argmax(axis=1), UNASSIGNED).astype(np.int64)
    share = np.where(has, w.max(axis=1) / np.where(has, total, 1.0), 0.0)
    names = np.asarray([*labels, UNASSIGNED_LABEL], dtype=object)
    return pd.DataFrame({"topic_id": topic, "label": names[topic], "weight": share})


@dataclass
class FittedTopics:
    """A fitted model and what the fit saw, per *distinct* text.

    ``codes`` maps each input text to its distinct text; ``x`` (TF-IDF),
    ``weights`` and ``content_words`` are per distinct text; ``is_fit`` marks
    the distinct texts that shaped the topics.
    """

    model: TopicModel
    codes: np.ndarray
    distinct: pd.Series
    x: sp.csr_matrix
    is_fit: np.ndarray
    weights: np.ndarray
    content_words: np.ndarray


def fit_topic_model(
    texts: pd.Series,
    n_topics: int | str,
    random_state: int,
    extra_stop_words: tuple[str, ...] = (),
) -> FittedTopics:
    """Fit TF-IDF + NMF on the texts with enough content words; weigh every text.

    Each distinct text is analysed once. NMF is fitted on the distinct texts,
    each row scaled by the square root of its number of copies, which gives the
    same Frobenius loss as fitting every copy (a row repeated ``m`` times costs
    ``m`` times its error); the weights are scaled back. Texts too short to fit
    are projected onto the fitted topics (as :meth:`TopicModel.assign` does).

    Raises
    ------
    ValueError
        Too few usable documents, an empty vocabulary, or a bad ``n_topics``.
    """
    codes, uniques = pd.factorize(texts, sort=False)
    distinct = pd.Series(uniques, dtype=object)
    mult = np.bincount(codes, minlength=len(distinct)).astype(np.int64)
    analyse = analyzer(extra_stop_words)
    words = [analyse.words(t) for t in distinct]
    content_words = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    is_fit = content_words >= MIN_CONTENT_WORDS
    n_fit = int(mult[is_fit].sum())
    if n_fit < 2:
        raise ValueError(
            f"only {n_fit} text(s) have at least {MIN_CONTENT_WORDS} content words; "
            "topics need more text"
        )
    feats = [features(w) for w in words]
    fit_rows = np.flatnonzero(is_fit)
    tfidf, x_fit = Tfidf.fit([feats[i] for i in fit_rows], mult[fit_rows])
    k = _topic_count(n_topics, x_fit, mult[fit_rows], random_state)
    selection = k[1]
    k_topics = min(k[0], *x_fit.shape)
    nmf = _nmf(k_topics, random_state)
    root = np.sqrt(mult[fit_rows].astype(np.float64))[:, None]
    w_fit = _fit_w(nmf, sp.csr_matrix(x_fit.multiply(root.astype(np.float32)))) / root
    # Number topics by volume (0 = most documents), ties by original position.
    hard = np.where(w_fit.sum(axis=1) > 0, w_fit.argmax(axis=1), -1)
    volume = np.bincount(hard[hard >= 0], weights=mult[fit_rows][hard >= 0], minlength=k_topics)
    perm = np.lexsort((np.arange(k_topics), -volume))
    nmf.components_ = np.ascontiguousarray(nmf.components_[perm])
    w_fit = w_fit[:, perm]
    h = np.asarray(nmf.components_)
    vocab = tfidf.terms()
    order = np.argsort(-h, axis=1, kind="stable")[:, :N_TOP_TERMS]
    top_terms = [[str(vocab[j]) for j in row if h[i, j] > 0] for i, row in enumerate(order)]
    labels = _dedupe([_label(t) or f"topic {i}" for i, t in enumerate(top_terms)])
    term_weights = pd.DataFrame(
        [
            {"topic_id": i, "rank": r + 1, "term": str(vocab[j]), "weight": float(h[i, j])}
            for i, row in enumerate(order)
            for r, j in enumerate(row)
        ]
    )
    model = TopicModel(analyse, tfidf, nmf, labels, top_terms, term_weights, selection)
    x = tfidf.transform(feats)
    weights = np.zeros((len(distinct), k_topics), dtype=np.float64)
    weights[fit_rows] = w_fit
    rest = np.flatnonzero(~is_fit)
    if len(rest):
        weights[rest] = _transform(nmf, x[rest])
    return FittedTopics(model, codes, distinct, x, is_fit, weights, content_words)


def _topic_count(
    n_topics: int | str, x: sp.csr_matrix, mult: np.ndarray, random_state: int
) -> tuple[int, pd.DataFrame | None]:
    if isinstance(n_topics, str):
        if n_topics != "auto":
            raise ValueError(f"n_topics must be 'auto' or a positive int, got {n_topics!r}")
        selection = select_n_topics(x, mult, random_state)
        return int(selection.loc[selection["is_chosen"], "n_topics"].iat[0]), selection
    if isinstance(n_topics, int | np.integer) and not isinstance(n_topics, bool):
        if n_topics < 1:
            raise ValueError(f"n_topics must be a positive int, got {n_topics}")
        return int(n_topics), None
    raise ValueError(f"n_topics must be 'auto' or a positive int, got {n_topics!r}")


def _dedupe(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out
