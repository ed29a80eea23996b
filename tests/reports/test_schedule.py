"""The schedule file: cron entries checked, next runs listed, crontab lines generated."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from opskit.errors import ConfigError
from opskit.reports import crontab_lines, load_schedule, next_runs


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedule.toml"
    path.write_text(text)
    return path


def test_entries_are_read_and_ordered_by_next_run(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[[report]]
name = "weekly"
cron = "0 6 * * 1"
parameters = { days = 7 }

[[report]]
name = "daily"
cron = "30 5 * * *"
""",
    )
    entries = load_schedule(path, known_reports=["daily", "weekly"])
    order = next_runs(entries, now=datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
    assert [(e.name, t.isoformat()) for e, t in order] == [
        ("daily", "2026-11-27T05:30:00+00:00"),
        ("weekly", "2026-11-30T06:00:00+00:00"),
    ]
    lines = crontab_lines(entries, opskit="/opt/opskit/bin/opskit", home=Path("/srv/ops"))
    assert lines[0] == "CRON_TZ=UTC"
    assert lines[1] == "0 6 * * 1 cd /srv/ops && /opt/opskit/bin/opskit report run weekly -p days=7"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[report]]\nname = "x"\ncron = "61 * * * *"', "invalid cron expression"),
        ('[[report]]\nname = "nope"\ncron = "0 6 * * *"', "no report 'nope'"),
        ('[[report]]\ncron = "0 6 * * *"', "needs 'name' and 'cron'"),
        ("[[report]\n", "invalid TOML"),
    ],
)
def test_bad_schedules_get_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_schedule(_write(tmp_path, text), known_reports=["x"])
