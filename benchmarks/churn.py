"""Benchmark: churn models and campaign uplift on the full demo warehouse vs planted truth.

Targets (issue 4): training on ~200,000 subscribers in under 20 s; holdout AUC (last
month) within 0.02 of the planted model's AUC; the logit recovers the planted drivers
(sign and ranking); campaign uplift intervals cover the planted uplift.

Run: ``python -m benchmarks.churn [--train-rows 200000] [--threads 1]`` (builds the
default warehouse first if it is missing). Prints markdown.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np
import pandas as pd

import opskit.analytics.churn as churn
import opskit.catalog as catalog
from opskit.config import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-rows", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads (default 1)")
    args = parser.parse_args()
    settings = load_settings()
    if settings.warehouse_path is not None and not settings.warehouse_path.exists():
        subprocess.run([sys.executable, "-m", "opskit.cli", "demo", "build"], check=True)
    wh = catalog._warehouse(settings)
    meta = wh.meta()
    truth = wh.table("demo_truth").to_pandas()  # the benchmark reads truth; analytics never do
    print(f"warehouse: {settings.resolved_warehouse_url} (scale {meta.get('scale')})\n")

    t0 = time.perf_counter()
    months = catalog.load("subscriber_months", settings=settings)
    load_s = time.perf_counter() - t0
    last = months["month"].max()
    train_all = months[months["month"] < last]
    hold = months[months["month"] == last]
    rng = np.random.default_rng(0)
    pick = rng.choice(len(train_all), min(args.train_rows, len(train_all)), replace=False)
    train = train_all.iloc[np.sort(pick)]
    model_truth = truth[truth["kind"] == "churn_model"].set_index("name")["value"]
    auc_planted = float(model_truth["holdout_auc"])
    print(
        f"subscriber_months: {len(months):,} rows, {months['subscriber_id'].nunique():,} "
        f"subscribers, loaded in {load_s:.1f} s; training sample {len(train):,} rows "
        f"({train['subscriber_id'].nunique():,} subscribers, months before {last:%Y-%m}); "
        f"holdout {last:%Y-%m}: {len(hold):,} subscribers\n"
    )

    print("## Churn models (time-based holdout: the last month)\n")
    print(
        "| model | features | train rows | fit s | ROC AUC | planted AUC | gap | PR AUC | Brier | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    feats = [
        c for c in months.columns if c not in ("subscriber_id", "month", "churned", "provenance")
    ]
    dtrain, dhold = churn.driver_frame(train), churn.driver_frame(hold)
    drivers = list(churn.DRIVERS)
    runs = [
        ("logit", "all raw columns", train, hold, feats, {}),
        ("gbm", "all raw columns", train, hold, feats, {}),
        ("logit", "named drivers", dtrain, dhold, drivers, {"reference": {"plan": "ad_free"}}),
    ]
    driver_model = None
    for kind, label, tr, ho, cols, extra in runs:
        m = churn.churn_model(kind, n_threads=args.threads, **extra)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        m.fit(tr[cols], tr["churned"].to_numpy())
        fit_s = time.perf_counter() - t0
        met = churn.classification_metrics(ho["churned"], m.predict_risk(ho[cols]))
        gap = met["roc_auc"] - auc_planted
        ok = "ok" if abs(gap) < 0.02 and fit_s < 20 else "MISS"
        print(
            f"| {kind} | {label} | {len(tr):,} | {fit_s:.1f} | {met['roc_auc']:.4f} | "
            f"{auc_planted:.4f} | {gap:+.4f} | {met['pr_auc']:.4f} | {met['brier']:.4f} | {ok} |"
        )
        if label == "named drivers":
            driver_model = m

    print("\n## Driver recovery (logit on the named drivers, training sample)\n")
    assert driver_model is not None
    est = driver_model.odds_ratios().set_index("term")
    est = est.rename(index={"plan=annual": "plan_annual", "plan=ad_supported": "plan_ad_supported"})
    beta = truth[truth["kind"] == "churn_driver"].set_index("name")["value"]
    tab = pd.DataFrame({"planted": beta, "estimate": est.loc[beta.index, "coef"],
                        "se": est.loc[beta.index, "se"]})  # fmt: skip
    tab["z"] = (tab["estimate"] - tab["planted"]) / tab["se"]
    tab["planted rank"] = tab["planted"].abs().rank(ascending=False, method="min").astype(int)
    tab["estimated rank"] = tab["estimate"].abs().rank(ascending=False, method="min").astype(int)
    tab["sign ok"] = np.sign(tab["planted"]) == np.sign(tab["estimate"])
    print(
        "| driver | planted log HR | estimated log OR (95% CI) | z | planted rank | estimated rank | sign |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, r in tab.sort_values("planted rank").iterrows():
        lo, hi = r["estimate"] - 1.96 * r["se"], r["estimate"] + 1.96 * r["se"]
        print(
            f"| {name} | {r['planted']:+.2f} | {r['estimate']:+.3f} ({lo:+.3f}, {hi:+.3f}) | "
            f"{r['z']:+.1f} | {r['planted rank']} | {r['estimated rank']} | "
            f"{'ok' if r['sign ok'] else 'WRONG'} |"
        )

    print("\n## Retention campaigns: uplift vs the randomised control group\n")
    res = churn.campaign_uplift(catalog.load("retention_campaigns", settings=settings))
    up = truth[truth["kind"] == "campaign_uplift"].set_index("subject")["value"]
    print(
        "| campaign | treated | control | uplift (95% CI) | p | planted uplift | covered | MDE (80% power) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    covered = 0
    for r in res.frame.itertuples():
        t = float(up[r.campaign_id])
        cov = r.uplift_ci_low <= t <= r.uplift_ci_high
        covered += cov
        print(
            f"| {r.campaign_id} {r.name} | {r.treated:,} | {r.control:,} | {r.uplift:+.4f} "
            f"({r.uplift_ci_low:+.4f}, {r.uplift_ci_high:+.4f}) | {r.p_value:.2g} | {t:+.4f} | "
            f"{'yes' if cov else 'no'} | {r.min_detectable_uplift:.4f} |"
        )
    print(f"\nplanted uplift inside the interval for {covered} of {len(res.frame)} campaigns")
    base = float(res.frame["retention_control"].median())
    size = churn.campaign_sample_size(base, [0.01, 0.02, 0.03])
    print(f"\nNext campaign (control retention {base:.3f}, 80/20 split, alpha 0.05, power 0.8):\n")
    print("| uplift to detect | treated | control | total |")
    print("|---|---|---|---|")
    for r in size.itertuples():
        print(f"| {r.uplift:+.2f} | {r.treated:,} | {r.control:,} | {r.total:,} |")


if __name__ == "__main__":
    main()
