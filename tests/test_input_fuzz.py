"""Fuzz every input path (filters, parameters, the CLI, ``detect``): only opskit's own errors
come out, and no NaN or infinity gets in."""

from __future__ import annotations

import datetime as dt
import inspect
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from opskit.analyses import ANALYSES
from opskit.analyses._common import check_arguments
from opskit.analytics.anomaly import DETECTORS, detect
from opskit.analytics.anomaly._regular import DUPLICATE_POLICIES
from opskit.catalog import load
from opskit.cli import app
from opskit.config import Settings
from opskit.datasets import REGISTRY
from opskit.errors import ConfigError, OpsKitError
from opskit.reports import notebook_path, params

REPO = Path(__file__).resolve().parents[1]
#: Bounded and reproducible (CI runs the same examples every time).
FUZZ = fuzz_settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: Text people and scripts type, tricky on purpose.
TRICKY = [
    "", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e30", "True",
    "false", "yes", "None", "null", "0", "-1", "0.5", "1.0", "7", "1_000", "0x10", "01/10/2026",
    "13-10-2026", "2026-10-01", "2026-13-01", "2026-02-30", "1677-09-22", "2262-04-12",
    "9999-12-31", "2026-10-01T25:00", "2026-10-01T00:00Z", "2026-10-01 12:00+02:00", "brazil",
    "OPEN", "premium", "x" * 40, "\x00", "[1, 2]", "a,b",
]  # fmt: skip
text = st.sampled_from(TRICKY) | st.text(max_size=12)
scalar = (
    text
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.booleans()
    | st.none()
    | st.dates()
    | st.datetimes()
)
value = scalar | st.lists(text, max_size=3)


def _filters(dataset: str) -> st.SearchStrategy[dict[str, Any]]:
    names = [f.name for f in REGISTRY[dataset].filters] + ["bogus"]
    return st.dictionaries(st.sampled_from(names), value, max_size=3)


any_load = st.sampled_from(sorted(REGISTRY)).flatmap(
    lambda name: st.tuples(st.just(name), _filters(name))
)


def _finite(v: Any) -> bool:
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, list):
        return all(_finite(x) for x in v)
    return True


@FUZZ
@given(case=any_load)
def test_load_raises_only_opskit_errors_and_accepts_no_nan(
    settings: Settings, case: tuple[str, dict[str, Any]]
) -> None:
    name, filters = case
    try:
        frame = load(name, settings=settings, **filters)
    except OpsKitError:
        return
    assert isinstance(frame, pd.DataFrame)
    used = frame.attrs.get("filters", {})
    assert all(_finite(v) for v in used.values()), used
    assert not any(isinstance(v, bool) for k, v in used.items() if _kind(name, k) != "bool")


def _kind(dataset: str, name: str) -> str:
    return next((f.kind for f in REGISTRY[dataset].filters if f.name == name), "")


any_call = st.sampled_from(sorted(ANALYSES)).flatmap(
    lambda name: st.tuples(
        st.just(name),
        st.dictionaries(
            st.sampled_from(
                [p for p in inspect.signature(ANALYSES[name]).parameters if p != "settings"]
            ),
            scalar,
            max_size=3,
        ),
    )
)


@FUZZ
@given(case=any_call)
def test_analysis_parameters_raise_only_opskit_errors_and_accept_no_nan(
    case: tuple[str, dict[str, Any]],
) -> None:
    name, values = case
    try:
        checked = check_arguments(ANALYSES[name], values)
    except OpsKitError:
        return
    for key, v in checked.items():
        assert _finite(v), (key, v)


@FUZZ
@given(report=st.sampled_from(sorted(ANALYSES)), values=st.dictionaries(text, text, max_size=3))
def test_report_parameters_raise_only_config_errors(report: str, values: dict[str, str]) -> None:
    try:
        checked = params.validate(notebook_path(report, REPO), values)
    except ConfigError:
        return
    assert all(_finite(v) for v in checked.values()), checked


def _cli_ok(result: Any) -> bool:
    """Exit 0, or exit 2 with one ``error:`` line; never an exception or a traceback."""
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        return False
    if "Traceback" in result.output:
        return False
    return result.exit_code == 0 or (result.exit_code == 2 and "error:" in result.output)


cli_text = st.sampled_from(TRICKY) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


@FUZZ
@given(
    name=st.sampled_from([*sorted(REGISTRY), "nope"]),
    items=st.lists(st.tuples(st.sampled_from(["start", "end", "min_subscribers",
                                              "risk_threshold", "at_risk_only", "region",
                                              "status", "target", "confidence"]), cli_text),
                   max_size=2),
)  # fmt: skip
def test_cli_show_and_describe_exit_0_or_2_with_one_clear_line(
    demo_env: dict[str, str], name: str, items: list[tuple[str, str]]
) -> None:
    runner = CliRunner()
    args = ["show", name, "--limit", "1"]
    for key, v in items:
        args += ["-f", f"{key}={v}"]
    assert _cli_ok(runner.invoke(app, args)), args
    assert _cli_ok(runner.invoke(app, ["describe", name]))


@pytest.fixture()
def repo_home(demo_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPSKIT_HOME", str(REPO))
    return REPO


bad_number = st.sampled_from(["nan", "inf", "-inf", "1e400", "True", "false", "", "7.5x"])


@FUZZ
@given(
    report=st.sampled_from(sorted(ANALYSES)),
    key=st.sampled_from(["days", "budget", "months", "level", "top_findings", "target",
                         "timeline_days", "days_back", "window_days", "max_themes"]),
    bad=bad_number | st.integers(min_value=10**11, max_value=10**40).map(str),  # above every range
)  # fmt: skip
def test_cli_report_run_refuses_bad_parameters_with_exit_2_before_a_kernel(
    repo_home: Path, tmp_path_factory: pytest.TempPathFactory, report: str, key: str, bad: str
) -> None:
    out = tmp_path_factory.mktemp("reports")
    result = CliRunner().invoke(
        app, ["report", "run", report, "-p", f"{key}={bad}", "--output", str(out)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 2 and "error:" in result.output, result.output
    assert not (out / report).exists()


def test_the_fuzz_covers_dates_the_way_people_write_them() -> None:
    # every ambiguous or out-of-bounds form above is refused with the accepted forms
    from opskit import inputs

    for raw in ("01/10/2026", "13-10-2026", "2026/10/01", "1 Oct 2026", "20261001"):
        with pytest.raises(OpsKitError, match="ISO 8601"):
            inputs.timestamp(raw, where="start")
    assert inputs.timestamp(dt.datetime(2026, 10, 1, 12), where="start").hour == 12


reading = st.floats(allow_nan=True, allow_infinity=True, min_value=None, max_value=None)
steps = st.lists(st.sampled_from([0, 1, 1, 1, 2, 3, 7]), min_size=0, max_size=150)


@FUZZ
@given(
    method=st.sampled_from(["auto", *sorted(DETECTORS)]),
    duplicates=st.sampled_from(DUPLICATE_POLICIES),
    gaps=steps,
    data=st.data(),
)
def test_detect_scores_every_row_of_any_numeric_series_or_raises_an_opskit_error(
    method: str, duplicates: str, gaps: list[int], data: st.DataObject
) -> None:
    # repeated (step 0) and irregular (steps 2, 3, 7) timestamps, NaN, inf and huge readings
    at = pd.Timestamp("2026-10-01T00:00Z") + pd.to_timedelta(pd.Series(gaps).cumsum() * 5, "min")
    values = data.draw(st.lists(reading, min_size=len(gaps), max_size=len(gaps)))
    series = pd.Series(values, index=pd.DatetimeIndex(at), dtype="float64")
    try:
        out = detect(series, method=method, duplicates=duplicates)
    except OpsKitError:
        return
    assert len(out) == len(series)
    scores = out["score"].to_numpy(dtype=float)
    assert not np.isinf(scores).any()
    assert ((scores[~np.isnan(scores)] >= 0) & (scores[~np.isnan(scores)] <= 1)).all()
