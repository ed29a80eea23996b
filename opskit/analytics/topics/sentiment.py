"""A transparent, lexicon-based sentiment score for complaint text (no downloads).

How a text is scored
--------------------
1. Lower-case, split into words (letters and apostrophes).
2. Each word found in :data:`POSITIVE` scores +1, in :data:`NEGATIVE` -1.
3. A negator (``not``, ``no``, ``never``, any ``...n't``, ``cannot``, ``without``)
   flips the sign of lexicon words among the next :data:`NEGATION_WINDOW` words
   ("not good" is negative, "not bad" mildly positive: x :data:`NEGATED_WEIGHT`).
4. An intensifier (``very``, ``so``, ``extremely`` ...) right before a lexicon
   word multiplies it by :data:`INTENSIFIER_WEIGHT`.
5. The sum ``s`` is squashed into [-1, 1] as ``s / sqrt(s**2 + ALPHA)``
   (VADER's normalisation, ``ALPHA = 15``): one strong word gives about +-0.25,
   four give about +-0.7. Texts with no lexicon word score 0.

The word lists are small, hand-written and aimed at service complaints and app
reviews (streaming, billing, support). On the 5,999 Netflix Play Store reviews
the score's Spearman correlation with the star rating is reported by
``python -m benchmarks.topics``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np

__all__ = [
    "ALPHA",
    "NEGATIVE",
    "POSITIVE",
    "sentiment_score",
    "sentiment_scores",
]

ALPHA = 15.0
NEGATION_WINDOW = 3
NEGATED_WEIGHT = 0.5
INTENSIFIER_WEIGHT = 1.5

POSITIVE = frozenset(
    [
        "good",
        "great",
        "excellent",
        "amazing",
        "awesome",
        "love",
        "loved",
        "loving",
        "lovely",
        "like",
        "liked",
        "best",
        "better",
        "nice",
        "perfect",
        "fantastic",
        "wonderful",
        "enjoy",
        "enjoyed",
        "enjoying",
        "fun",
        "happy",
        "glad",
        "pleased",
        "satisfied",
        "easy",
        "smooth",
        "fast",
        "quick",
        "helpful",
        "recommend",
        "recommended",
        "worth",
        "fine",
        "brilliant",
        "superb",
        "favorite",
        "favourite",
        "beautiful",
        "cool",
        "fixed",
        "resolved",
        "thanks",
        "thank",
        "appreciate",
        "appreciated",
        "reliable",
        "entertaining",
        "impressive",
        "incredible",
        "outstanding",
        "quality",
        "variety",
        "works",
        "working",
        "solved",
        "improved",
        "improvement",
        "convenient",
        "friendly",
        "responsive",
        "stable",
        "clear",
    ]
)
NEGATIVE = frozenset(
    [
        "bad",
        "worse",
        "worst",
        "terrible",
        "horrible",
        "awful",
        "poor",
        "useless",
        "broken",
        "broke",
        "crash",
        "crashes",
        "crashed",
        "crashing",
        "freeze",
        "freezes",
        "freezing",
        "frozen",
        "buffering",
        "buffer",
        "stuck",
        "lag",
        "laggy",
        "lagging",
        "slow",
        "error",
        "errors",
        "bug",
        "buggy",
        "glitch",
        "glitches",
        "glitchy",
        "fail",
        "fails",
        "failed",
        "failure",
        "fault",
        "problem",
        "problems",
        "issue",
        "issues",
        "annoying",
        "annoyed",
        "annoy",
        "frustrating",
        "frustrated",
        "frustration",
        "hate",
        "hated",
        "disappointed",
        "disappointing",
        "disappointment",
        "angry",
        "upset",
        "ridiculous",
        "pathetic",
        "garbage",
        "trash",
        "rubbish",
        "unusable",
        "unwatchable",
        "unacceptable",
        "scam",
        "fraud",
        "stupid",
        "waste",
        "wasted",
        "expensive",
        "overpriced",
        "greedy",
        "ripoff",
        "rip",
        "cancel",
        "cancelled",
        "canceled",
        "cancelling",
        "unsubscribe",
        "refund",
        "charged",
        "overcharged",
        "declined",
        "locked",
        "hacked",
        "blocked",
        "missing",
        "removed",
        "lost",
        "stopped",
        "stop",
        "stops",
        "nothing",
        "never",
        "wrong",
        "difficult",
        "hard",
        "complaint",
        "complain",
        "complaining",
        "sucks",
        "suck",
        "boring",
        "confusing",
        "confused",
        "impossible",
        "unable",
        "denied",
        "ignored",
        "unfair",
        "misleading",
        "incorrect",
        "inaccurate",
        "late",
        "delay",
        "delayed",
        "blurry",
        "stutters",
        "stutter",
        "disconnects",
        "disconnect",
        "dropped",
        "drops",
        "unresponsive",
        "worthless",
        "disgusting",
        "dumb",
        "sad",
        "ruin",
        "ruins",
        "ruined",
        "mess",
    ]
)
_NEGATORS = frozenset(
    ["not", "no", "never", "cannot", "without", "nor", "neither", "none", "nobody"]
)
_INTENSIFIERS = frozenset(
    [
        "very",
        "so",
        "really",
        "extremely",
        "too",
        "super",
        "totally",
        "absolutely",
        "incredibly",
        "highly",
        "most",
    ]
)
_WORD = re.compile(r"[a-z']+")
_NEGATOR_SET = _NEGATORS | {"dont", "cant", "wont", "isnt", "didnt", "doesnt", "wasnt"}
_POLARITY: dict[str, float] = {w: 1.0 for w in POSITIVE} | {w: -1.0 for w in NEGATIVE}


def sentiment_score(text: str) -> float:
    """Sentiment of one text in [-1, 1] (negative = unhappy); see the module doc.

    Examples
    --------
    >>> sentiment_score("The app is great")
    0.25
    >>> sentiment_score("The app is not great, it keeps crashing") < 0
    True
    >>> sentiment_score("")
    0.0
    """
    total = 0.0
    negate_left = 0
    previous = ""
    get = _POLARITY.get
    for word in _WORD.findall(text.lower()):
        polarity = get(word, 0.0)
        if polarity:
            if previous in _INTENSIFIERS:
                polarity *= INTENSIFIER_WEIGHT
            if negate_left > 0:
                polarity *= -NEGATED_WEIGHT if polarity < 0 else -1.0
            total += polarity
        if word in _NEGATOR_SET or word.endswith("n't"):
            negate_left = NEGATION_WINDOW
        elif negate_left > 0:
            negate_left -= 1
        previous = word
    return round(total / math.sqrt(total * total + ALPHA), 4) if total else 0.0


def sentiment_scores(texts: Iterable[str]) -> np.ndarray:
    """:func:`sentiment_score` of every text, as a float64 array."""
    return np.array([sentiment_score(t) for t in texts], dtype=np.float64)
