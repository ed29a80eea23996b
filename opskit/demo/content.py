"""Content catalogue: titles with heavy-tailed popularity and cost, release dates,
and planted *content droughts* (genres with no new release for a stretch)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit.demo._common import GENRE_SHARE, GENRES, Calendar, pick

_WORDS_A = (
    "Silent", "Broken", "Golden", "Last", "Hidden", "Wild", "Iron", "Midnight", "Crimson", "Lost",
    "Northern", "Electric", "Paper", "Glass", "Savage", "Quiet", "Burning", "Frozen", "Velvet", "Neon",
)  # fmt: skip
_WORDS_B = (
    "Harbor", "Empire", "Season", "Signal", "Kingdom", "Frontier", "Garden", "Line", "Circuit",
    "Tide", "Valley", "Crown", "Protocol", "League", "Dynasty", "Orbit", "Archive", "Parade",
)  # fmt: skip

#: Planted droughts: (genre, first month index, months without any release).
DROUGHTS = (("sports", 3, 3), ("thriller", 7, 3))


def content_table(rng: np.random.Generator, cal: Calendar, n_titles: int) -> pd.DataFrame:
    """One row per title.

    Popularity is Zipf-like (log-normal), production cost is log-normal with a
    heavy tail; 10 % of titles are flagship. Release dates: 60 % before the demo
    year, the rest spread over it, except inside :data:`DROUGHTS` windows.
    """
    genre = pick(rng, GENRES, GENRE_SHARE, n_titles)
    tier = np.where(rng.random(n_titles) < 0.1, "flagship", "catalog")
    popularity = rng.lognormal(0.0, 1.1, n_titles) * np.where(tier == "flagship", 4.0, 1.0)
    cost = rng.lognormal(np.log(2.5e6), 1.2, n_titles) * np.where(tier == "flagship", 6.0, 1.0)
    released_before = rng.random(n_titles) < 0.6
    day = np.where(
        released_before,
        -rng.integers(30, 5 * 365, n_titles),
        rng.integers(0, cal.days, n_titles),
    )
    bounds = cal.month_bounds()
    for g, first, length in DROUGHTS:
        lo, hi = bounds[first][0], bounds[first + length - 1][1]
        hit = (genre == g) & (day >= lo) & (day < hi)
        # Move the release out of the drought window, to just after it.
        day[hit] = hi + rng.integers(0, 20, int(hit.sum()))
    day = np.minimum(day, cal.days - 1)
    names = [
        f"{_WORDS_A[i % len(_WORDS_A)]} {_WORDS_B[(i * 7 + j) % len(_WORDS_B)]}"
        for i, j in zip(rng.permutation(n_titles), rng.integers(0, 1000, n_titles), strict=True)
    ]
    seen: dict[str, int] = {}
    titles = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        titles.append(n if seen[n] == 1 else f"{n} {seen[n]}")
    return pd.DataFrame(
        {
            "content_id": [f"C{i:04d}" for i in range(n_titles)],
            "title": titles,
            "genre": genre,
            "tier": tier,
            "release_date": (cal.start + pd.to_timedelta(day, unit="D")).normalize(),
            "production_cost_usd": np.round(cost, 2),
            "popularity": popularity,
        }
    )


def drought_months(content: pd.DataFrame, cal: Calendar) -> dict[str, np.ndarray]:
    """For each genre, a boolean per month: no release of that genre in the 60 days before
    the month starts (the ``content_gap`` churn driver's exposure)."""
    out: dict[str, np.ndarray] = {}
    starts = [cal.start + pd.Timedelta(days=a) for a, _ in cal.month_bounds()]
    for g in GENRES:
        rel = content.loc[content["genre"] == g, "release_date"]
        out[g] = np.array(
            [not ((rel < s) & (rel >= s - pd.Timedelta(days=60))).any() for s in starts]
        )
    return out
