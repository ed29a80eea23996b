"""Pareto engine behaviour: vital few, ties, concentration, drill-down, what-if, errors, chart."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from opskit.analytics._pareto_text import measure_name
from opskit.analytics.pareto import ParetoResult, pareto
from opskit.provenance import Provenance, of

DEMO = Provenance("demo", ("test",), datetime(2026, 1, 1, tzinfo=UTC))
LIVE = Provenance("live", ("jira",), datetime(2026, 1, 2, tzinfo=UTC))


def items(values: list[float], labels: list[str] | None = None) -> pd.DataFrame:
    labels = labels or [f"i{n:02d}" for n in range(len(values))]
    return pd.DataFrame({"item_id": labels, "cost_usd": values})


def run(frame: pd.DataFrame, **kw: object) -> ParetoResult:
    kw.setdefault("provenance", DEMO)
    kw.setdefault("by", "item_id")
    return pareto(frame, "cost_usd", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "target", "vital", "fixed_20pct"),
    [
        ([91.0] + [1.0] * 9, 0.8, 1, 2),  # more concentrated than 80/20: one item is enough
        ([10.0] * 10, 0.8, 8, 2),  # flat: 80 % of items needed
        ([50.0, 30.0, 10.0, 5.0, 5.0], 0.8, 2, 1),  # exactly 80 % reached by two items
        ([60.0, 30.0, 10.0], 0.5, 1, 1),
        ([5.0, 5.0, 0.0], 1.0, 2, 1),  # a zero item is never needed
        ([1.0], 0.8, 1, 1),
    ],
)
def test_vital_few_is_the_smallest_set_reaching_the_target(values, target, vital, fixed_20pct):
    r = run(items(values), target=target)
    assert r.summary["vital_few_count"] == vital
    assert len(r.vital_few) == vital and r.vital_few["is_vital_few"].all()
    cum = r.frame["cumulative_share"].to_numpy()
    assert cum[vital - 1] >= target - 1e-9
    assert vital == 1 or cum[vital - 2] < target  # one fewer would not reach it
    assert r.summary["top20_items"] == fixed_20pct  # the seed's fixed ceil(20 %), for contrast


def test_ties_are_broken_by_label_whatever_the_row_order():
    frame = items([40.0, 20.0, 20.0, 20.0], ["x", "b", "c", "a"])
    first = run(frame, target=0.6)
    shuffled = run(frame.sample(frac=1.0, random_state=3), target=0.6)
    assert first.frame["item_id"].tolist() == ["x", "a", "b", "c"]
    assert first.vital_few["item_id"].tolist() == ["x", "a"]
    pd.testing.assert_frame_equal(first.frame, shuffled.frame)


def test_ties_follow_category_order_and_put_missing_labels_last():
    cat = pd.Categorical(["z", "y", None], categories=["z", "y"], ordered=True)
    r = run(pd.DataFrame({"item_id": cat, "cost_usd": [5.0, 5.0, 5.0]}))
    assert r.frame["item_id"].astype(object).tolist()[:2] == ["z", "y"]
    assert pd.isna(r.frame["item_id"].iloc[2])


@pytest.mark.parametrize(
    ("values", "gini"),
    [
        ([3.0, 3.0, 3.0, 3.0], 0.0),
        ([1.0, 2.0, 3.0, 4.0], 0.25),
        ([0.0, 0.0, 0.0, 8.0], 0.75),  # one item holds all: (n - 1) / n
        ([1.0] + [0.0] * 999, 0.999),
        ([7.0], 0.0),
    ],
)
def test_gini_coefficient_on_known_inputs(values, gini):
    assert run(items(values)).gini == pytest.approx(gini, abs=1e-12)


def test_abc_classes_and_top_20_percent_share():
    r = run(items([50.0, 30.0, 10.0, 5.0, 5.0]))
    assert r.frame["abc_class"].tolist() == ["A", "A", "B", "B", "C"]
    assert r.top20_share == pytest.approx(0.5)  # ceil(0.2 * 5) = 1 item
    r = run(items([91.0] + [1.0] * 9))
    assert r.top20_share == pytest.approx(0.92)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ([91.0] + [1.0] * 19, "highly concentrated: 5.0 % of items (1 of 20) hold 82.7 %"),
        ([10.0] * 10, "spread out: 80.0 % of items (8 of 10)"),
        ([60.0, 25.0, 5.0, 5.0, 5.0], "moderately concentrated: 40.0 % of items (2 of 5)"),
    ],
)
def test_statement_describes_concentration_and_never_calls_it_invalid(values, words):
    r = run(items(values))
    assert words in r.statement
    assert "invalid" not in r.statement.lower()
    assert r.findings[0].title.lower().startswith(words.split(":")[0])


def test_rows_are_summed_per_item_and_missing_keys_form_their_own_item():
    frame = pd.DataFrame(
        {"item_id": ["a", "b", "a", None, None], "cost_usd": [1.0, 5.0, 2.0, 4.0, 0.5]}
    )
    r = run(frame)
    got = dict(zip(r.frame["item_id"].fillna("(missing)"), r.frame["value"], strict=True))
    assert got == {"b": 5.0, "(missing)": 4.5, "a": 3.0}
    assert r.frame["n_rows"].tolist() == [1, 2, 2]
    assert r.frame["share"].sum() == pytest.approx(1.0)
    assert r.frame["cumulative_share"].iloc[-1] == 1.0
    keys = pd.array([7, 7, None, 3], dtype="Int64")
    ranked = run(pd.DataFrame({"item_id": keys, "cost_usd": [1.0, 1.0, 5.0, 1.0]})).frame
    assert pd.isna(ranked["item_id"].iloc[0]) and ranked["item_id"].iloc[1:].tolist() == [7, 3]


@pytest.mark.parametrize("keys", [[105, 103, 105, 104], [10**12, 7, 10**12, -3]])
def test_integer_keys_dense_or_sparse_keep_their_labels(keys):
    r = run(pd.DataFrame({"item_id": keys, "cost_usd": [1.0, 2.0, 4.0, 0.5]}))
    assert r.frame["item_id"].tolist() == [keys[0], keys[1], keys[3]]
    assert r.frame["value"].tolist() == [5.0, 2.0, 0.5]


def test_value_none_counts_rows_and_by_none_ranks_rows_by_index():
    tickets = pd.DataFrame({"theme": ["billing"] * 6 + ["buffering"] * 3 + ["login"]})
    r = pareto(tickets, None, "theme", provenance=DEMO)
    assert r.frame["value"].tolist() == [6.0, 3.0, 1.0]
    assert r.summary["unit"] == "rows"
    by_row = pareto(
        pd.DataFrame({"cost_usd": [1.0, 9.0]}, index=["p", "q"]), "cost_usd", provenance=DEMO
    )
    assert by_row.frame["item"].tolist() == ["q", "p"]


def nested() -> pd.DataFrame:
    rows = [
        ("A", "x", "cfg", 60.0),
        ("A", "x", "bug", 10.0),
        ("A", "y", "cfg", 20.0),
        ("A", "z", "bug", 2.0),
        ("B", "x", "cfg", 5.0),
        ("B", "y", "bug", 3.0),
    ]
    return pd.DataFrame(rows, columns=["show", "component", "root_cause", "delay_days"])


def test_drilldown_follows_the_vital_few_down_the_levels():
    r = pareto(nested(), "delay_days", ["show", "component", "root_cause"], provenance=DEMO)
    top = r.drilldown(0)
    assert top["show"].tolist() == ["A", "B"] and top["is_vital_few"].tolist() == [True, False]
    comp = r.drilldown("component")  # only within the vital show A
    assert comp["component"].tolist() == ["x", "y", "z"]
    assert comp["share"].to_numpy() == pytest.approx([70 / 92, 20 / 92, 2 / 92])
    assert comp["is_vital_few"].tolist() == [True, True, False]
    causes = r.drilldown(2)  # within A/x and A/y
    assert list(zip(causes["component"], causes["root_cause"], strict=True)) == [
        ("x", "cfg"),
        ("x", "bug"),
        ("y", "cfg"),
    ]
    everything = r.drilldown(1, all_parents=True)
    assert set(everything["show"]) == {"A", "B"}
    assert everything.groupby("show")["share"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    table = r.tables["drilldown"]
    assert sorted(table["level"].unique()) == [0, 1, 2]
    assert "mostly component x" in (r.findings[1].root_cause or "")


@pytest.mark.parametrize("level", [3, -1, "team"])
def test_drilldown_rejects_unknown_levels(level):
    r = pareto(nested(), "delay_days", ["show", "component"], provenance=DEMO)
    with pytest.raises(ValueError, match="level"):
        r.drilldown(level)


def test_drilldown_needs_two_by_columns():
    with pytest.raises(ValueError, match="at least two"):
        run(items([1.0, 2.0])).drilldown(0)


def test_what_if_removes_the_top_k_values():
    r = run(items([50.0, 30.0, 10.0, 5.0, 5.0]))
    w = r.what_if(2)
    assert (w.value_removed, w.share_removed, w.remaining_value) == (80.0, 0.8, 20.0)
    assert w.items == ("i00", "i01")
    assert r.what_if(2, reduction=0.5).value_removed == 40.0
    table = r.what_if_table()
    assert table["value_removed"].tolist() == r.frame["value"].cumsum().tolist()
    assert (table["share_removed"] + table["remaining_share"]).to_numpy() == pytest.approx(1.0)
    assert r.tables["what_if"].equals(table)
    assert "$80" in w.text()
    for bad in (0, 6):
        with pytest.raises(ValueError, match="k must be"):
            r.what_if(bad)


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (items([1.0, -2.0]), {}, "negative"),
        (items([1.0, np.nan]), {}, "missing"),
        (items([1.0, np.inf]), {}, "infinite"),
        (items([0.0, 0.0]), {}, "total .* is zero"),
        (items([]), {}, "empty"),
        (items([1.0]), {"by": "nope"}, "unknown column"),
        (items([1.0]), {"by": "cost_usd"}, "both the value and a by"),
        (items([1.0]), {"target": 0.0}, "target"),
        (items([1.0]), {"negative": "ignore"}, "negative must be"),
        (items([-1.0, -2.0]), {"negative": "drop"}, "no rows are left"),
        (pd.DataFrame({"item_id": ["a"], "cost_usd": ["12"]}), {}, "must be numeric"),
    ],
)
def test_bad_input_raises_a_clear_value_error(frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run(frame, **kwargs)


def test_non_frame_input_is_a_type_error():
    with pytest.raises(TypeError, match="DataFrame"):
        pareto([{"a": 1}], "a", provenance=DEMO)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "values"),
    [("clip", [5.0, 3.0, 0.0]), ("drop", [5.0, 3.0])],
)
def test_negative_values_follow_the_chosen_rule(rule, values, caplog):
    r = run(items([5.0, -2.0, 3.0]), negative=rule)
    assert r.frame["value"].tolist() == values
    assert any(rule in rec.getMessage() for rec in caplog.records)


def test_missing_values_can_be_dropped():
    r = run(items([5.0, np.nan, 3.0]), missing="drop")
    assert r.summary["rows_dropped_missing"] == 1 and r.summary["total"] == 8.0


def test_provenance_is_carried_and_never_invented():
    frame = items([3.0, 1.0])
    with pytest.raises(ValueError, match="provenance"):
        pareto(frame, "cost_usd", "item_id")
    frame.attrs["provenance"] = LIVE.to_dict()
    r = pareto(frame, "cost_usd", "item_id")
    assert r.provenance.kind == "live" and of(r.frame).kind == "live"
    assert set(r.frame["provenance"]) == {"live"}
    weaker = pareto(frame, "cost_usd", "item_id", provenance=DEMO)  # combining only weakens
    assert weaker.provenance.kind == "demo"
    assert all(f.provenance.kind == "demo" for f in weaker.findings)
    assert "[demo data]" in weaker.findings[0].text()


@pytest.mark.parametrize(
    ("column", "usd", "subscribers", "period"),
    [
        ("revenue_lost_annual_usd", 80.0, None, "per year"),
        ("revenue_at_risk_30d_usd", 80.0, None, "per 30 days"),
        ("projected_churners_30d", None, 80.0, "per year"),
        ("delay_days", None, None, "per year"),
    ],
)
def test_findings_put_money_or_subscribers_at_stake_only_for_those_units(
    column, usd, subscribers, period
):
    frame = pd.DataFrame({"k": list("abcde"), column: [50.0, 30.0, 10.0, 5.0, 5.0]})
    r = pareto(frame, column, "k", provenance=DEMO)
    focus = r.findings[0]
    assert focus.impact_usd == usd and focus.impact_subscribers == subscribers
    if usd is not None:
        assert focus.impact_period == period
        assert "$80 per" in focus.text()
    what = measure_name(column)  # says which value the share is of, in words
    assert what in focus.title and "_" not in focus.title
    assert [f.title for f in r.findings[1:]] == [
        f"#1 a holds 50.0 % of the {what}",
        f"#2 b holds 30.0 % of the {what}",
    ]


def test_chart_has_bars_cumulative_line_and_target_rule():
    spec = run(items([50.0, 30.0, 10.0, 5.0, 5.0])).chart().to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["bar", "line", "rule"]
    assert spec["layer"][0]["encoding"]["color"]["field"] == "group"
    assert spec["resolve"]["scale"]["y"] == "independent"


def test_chart_caps_many_items_with_an_other_bar():
    r = run(items([float(v) for v in range(1, 201)]))
    chart = r.chart(max_bars=10)
    data = chart.layer[0].data
    assert len(data) == 11
    assert data["item"].iloc[-1] == "other (190 items)"
    assert data["value"].sum() == pytest.approx(r.summary["total"])
    assert set(data["group"].iloc[:10]) == {"vital few"}


def test_large_inputs_rank_like_a_full_sort():
    rng = np.random.default_rng(0)
    values = rng.pareto(1.16, 50_000) + 1.0
    r = pareto(pd.DataFrame({"impact": values}), "impact", provenance=DEMO)
    assert r.frame["value"].to_numpy() == pytest.approx(np.sort(values)[::-1], abs=0)
    assert r.frame["item"].is_unique
