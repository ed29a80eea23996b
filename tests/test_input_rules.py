"""One set of input rules for filters, analysis parameters and report parameters."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opskit import analyses
from opskit.catalog import load
from opskit.cli import app
from opskit.config import Settings
from opskit.errors import ConfigError, DatasetError, ParameterError
from opskit.reports import notebook_path, params

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"min_subscribers": "inf"}, "expected a finite number, got 'inf'"),
        ({"min_subscribers": "nan"}, "expected a finite number"),
        ({"min_subscribers": "1e400"}, "expected a finite number"),
        ({"min_subscribers": float("inf")}, "expected a finite number"),
        ({"risk_threshold": "nan"}, "expected a finite number"),
        ({"risk_threshold": float("nan")}, "expected a finite number"),
        ({"risk_threshold": 1e30}, "out of range (0 to 100)"),
        ({"min_subscribers": True}, "true/false is not a number"),
        ({"min_subscribers": "True"}, "expected a number, got 'True'"),
        ({"at_risk_only": 1}, "expected true or false, got 1"),
        ({"start": "01/10/2026"}, "'01/10/2026' is not an ISO 8601 date; use YYYY-MM-DD"),
        ({"start": "13-10-2026"}, "is not an ISO 8601 date"),
        ({"start": "2026-02-30"}, "is not a valid date/time"),
        ({"end": "1677-09-22"}, "outside the years 1900 to 2199"),
        ({"end": "9999-12-31T00:00"}, "outside the years 1900 to 2199"),
        ({"start": float("nan")}, "expected a date/time"),
    ],
)
def test_bad_filter_values_are_refused_before_any_query(
    settings: Settings, filters: dict[str, object], message: str
) -> None:
    with pytest.raises(DatasetError) as err:
        load("churn_signals", settings=settings, **filters)
    assert message in str(err.value)


def test_iso_dates_with_zones_and_date_objects_mean_what_they_say(settings: Settings) -> None:
    import datetime as dt

    a = load("streaming_qoe", settings=settings, start="2026-10-01T02:00+02:00", end="2026-10-02")
    b = load(
        "streaming_qoe", settings=settings, start=dt.date(2026, 10, 1), end="2026-10-02T00:00Z"
    )
    assert a.attrs["window"] == b.attrs["window"]
    assert a.attrs["window"][0].startswith("2026-10-01T00:00:00")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": True}, "days: expected a number, got True"),
        ({"include_qoe": 1}, "include_qoe: expected true or false, got 1"),
        ({"days": 1000}, "days: Input should be less than or equal to 30"),
    ],
)
def test_analysis_parameters_follow_the_same_rules(
    settings: Settings, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        analyses.service_health(settings=settings, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("budget", [math.nan, math.inf, 1e30, -1.0])
def test_budgets_are_finite_and_in_range(settings: Settings, budget: float) -> None:
    with pytest.raises(ParameterError, match="budget"):
        analyses.forecast_revenue_with_constraints(budget=budget, settings=settings)
    with pytest.raises(ParameterError, match="budget"):
        analyses.generate_retention_campaign(budget=budget, settings=settings)


@pytest.mark.parametrize(
    ("report", "values", "message"),
    [
        ("service_health", {"days": "1000"}, "report 'service_health': days: Input should be"),
        ("service_health", {"days": "nan"}, "expected a finite number"),
        ("service_health", {"days": "True"}, "expected a number, got 'True'"),
        ("service_health", {"include_qoe": "2"}, "expected true or false, got '2'"),
        ("revenue_forecast", {"budget": "1e30"}, "budget: Input should be less than or equal"),
        ("revenue_forecast", {"budget": "inf"}, "expected a finite number"),
        ("retention_campaign", {"cost_per_contact": "500"}, "cost_per_contact: Input should be"),
    ],
)
def test_report_parameters_are_checked_against_the_analysis_before_a_kernel_starts(
    report: str, values: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        params.validate(notebook_path(report, REPO), values)
    assert message in str(err.value)


def test_report_run_with_an_out_of_range_parameter_exits_2_at_once(
    demo_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSKIT_HOME", str(REPO))
    out = CliRunner().invoke(
        app, ["report", "run", "service_health", "-p", "days=1000", "--output", str(tmp_path)]
    )
    assert out.exit_code == 2 and "days: Input should be less than or equal to 30" in out.output
    assert not (tmp_path / "service_health").exists()  # refused before a run folder or kernel
