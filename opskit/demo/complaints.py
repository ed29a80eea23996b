"""Complaint tickets with free text.

The text is assembled from phrase pools per underlying theme (openings,
symptoms, context, asks), with the device, show titles and amounts filled in,
so that topic models have realistic, varied text to work on. The ``category``
field is what a support agent picked: right 82 % of the time, otherwise a
random category, as in real ticketing systems.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opskit.demo._common import Calendar
from opskit.demo.population import COMPLAINT_CATEGORIES

_PHRASES: dict[str, tuple[tuple[str, ...], ...]] = {
    "playback_buffering": (
        (
            "The video keeps buffering",
            "Constant buffering tonight",
            "Stream freezes every few minutes",
            "Playback stutters and the spinner never stops",
            "Picture goes blurry then stops to load",
        ),
        (
            "on my {device}",
            "while watching {show}",
            "during the finale of {show}",
            "on every episode",
        ),
        (
            "my internet is fine for other apps",
            "speed test shows 100 Mbps",
            "it started this week",
            "it happens every evening around 9pm",
        ),
        (
            "please fix the streaming quality",
            "I am paying for HD and get this",
            "this is unwatchable",
        ),
    ),
    "billing_payment": (
        (
            "My payment was declined",
            "I was charged twice this month",
            "Card payment failed again",
            "Billing error on my account",
            "You took {amount} but my account says unpaid",
        ),
        (
            "even though my card is valid",
            "after I updated my card",
            "and now my account is on hold",
            "and the app logged me out",
        ),
        ("the bank says nothing was blocked", "I got an email saying payment failed"),
        ("please refund the duplicate charge", "fix my billing", "I need this resolved today"),
    ),
    "price": (
        (
            "The price went up again",
            "Why did my plan increase to {amount}",
            "Another price increase",
            "Too expensive now",
            "The new price is not worth it",
        ),
        ("for the ad free plan", "without any new content", "with less shows than last year"),
        (
            "other services are cheaper",
            "I have been a member for years",
            "my household cannot afford it",
        ),
        (
            "I will cancel if this continues",
            "please offer a loyalty discount",
            "bring back the old price",
        ),
    ),
    "login_account": (
        (
            "I can't log in",
            "Password reset email never arrives",
            "App keeps signing me out",
            "My account was locked",
            "Someone else is using my account",
        ),
        ("on the {device}", "after the latest update", "since yesterday"),
        ("I tried resetting twice", "the verification code never comes"),
        ("please unlock my account", "help me get back in"),
    ),
    "content_library": (
        (
            "Nothing new to watch",
            "You removed {show}",
            "The library is getting smaller",
            "No new {genre} titles for months",
            "Where are the new releases",
        ),
        (
            "I only subscribed for {genre}",
            "my favourite shows are gone",
            "the catalogue feels stale",
        ),
        ("competitors have more choice", "I keep rewatching old stuff"),
        ("please add more {genre}", "bring {show} back", "I might cancel until new seasons arrive"),
    ),
    "app_crash": (
        (
            "The app crashes on launch",
            "App freezes on the home screen",
            "Crashes when I open {show}",
            "Black screen after the update",
        ),
        ("on my {device}", "every time since the update", "after a few minutes"),
        ("reinstalling did not help", "I cleared the cache"),
        ("please release a fix", "this app is broken"),
    ),
    "ads": (
        (
            "Too many ads",
            "Ads are louder than the show",
            "The same ad plays five times",
            "Ad breaks every ten minutes",
        ),
        ("during {show}", "on the ad supported plan", "even in kids content"),
        ("it ruins the experience", "ads freeze the stream"),
        ("reduce the ad load", "I will switch plans"),
    ),
    "subtitles_audio": (
        (
            "Subtitles are out of sync",
            "Audio and video are not in sync",
            "No subtitles in my language",
            "Sound drops out",
        ),
        ("on {show}", "on my {device}", "for the last episodes"),
        ("it makes it impossible to follow",),
        ("please fix the subtitles", "fix the audio track"),
    ),
    "casting_device": (
        (
            "Casting to my TV fails",
            "Chromecast disconnects",
            "AirPlay does not work",
            "Can't cast anymore",
        ),
        ("from my phone", "since the update", "on the {device}"),
        ("other apps cast fine",),
        ("please fix casting",),
    ),
    "customer_service": (
        (
            "Customer support never answered",
            "I waited an hour in chat",
            "Support closed my ticket",
            "Nobody replies to my emails",
        ),
        ("about my earlier complaint", "for the third time"),
        ("this is frustrating",),
        ("I want to speak to a manager", "please call me back"),
    ),
}
CHANNELS = ("app", "web_form", "chat", "phone", "email", "social")
CHANNEL_P = (0.28, 0.18, 0.24, 0.12, 0.12, 0.06)


def complaints_table(
    rng: np.random.Generator,
    cal: Calendar,
    raw: pd.DataFrame,
    content: pd.DataFrame,
    favourite_genre: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Turn the simulation's complaint rows into tickets with text and metadata.

    Returns the tickets and, aligned with them, the true theme of each ticket.
    """
    raw = raw.sort_values(["day", "subscriber_idx"], kind="stable", ignore_index=True)
    k = len(raw)
    titles = content["title"].to_numpy()
    weights = content["popularity"].to_numpy() / content["popularity"].sum()
    shows = titles[rng.choice(len(titles), k, p=weights)]
    amounts = rng.choice(["$14.99", "$12.99", "$7.99", "$25.98", "$119.99"], k)
    texts = []
    r = rng.random((k, 5))
    for i, (cat, dev, show, amount) in enumerate(
        zip(raw["category"], raw["device"], shows, amounts, strict=True)
    ):
        pools = _PHRASES[cat]
        parts = [
            pool[int(r[i, j] * len(pool))] for j, pool in enumerate(pools) if r[i, 4] > 0.15 * j
        ]
        text = ", ".join(parts[:2]) + ". " + " ".join(p.capitalize() + "." for p in parts[2:])
        genre = favourite_genre[raw["subscriber_idx"].iat[i]]
        texts.append(
            text.format(device=dev.replace("_", " "), show=show, amount=amount, genre=genre).strip()
        )
    agent_right = rng.random(k) < 0.82
    agent_cat = np.where(
        agent_right,
        raw["category"].to_numpy(),
        np.asarray(COMPLAINT_CATEGORIES, dtype=object)[
            rng.integers(0, len(COMPLAINT_CATEGORIES), k)
        ],
    )
    created = raw["day"].to_numpy()
    handle_h = rng.lognormal(np.log(20.0), 1.1, k)
    resolved = created + handle_h / 24
    open_ = resolved > cal.days
    return pd.DataFrame(
        {
            "ticket_id": [f"T{i + 1:07d}" for i in range(k)],
            "subscriber_id": (raw["subscriber_idx"].to_numpy() + 1).astype("int64"),
            "created_at": cal.to_time(created),
            "resolved_at": cal.to_time(np.where(open_, np.nan, resolved)),
            "channel": np.asarray(CHANNELS, dtype=object)[
                rng.choice(len(CHANNELS), k, p=CHANNEL_P)
            ],
            "category": agent_cat,
            "device": raw["device"].to_numpy(),
            "text": texts,
        }
    ), raw["category"].to_numpy()
