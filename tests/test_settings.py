"""Settings come from arguments > env > .env > opskit.toml > defaults; secrets stay hidden."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from opskit.config import SourceMode, load_settings, project_root
from opskit.errors import ConfigError


def test_defaults_point_at_the_embedded_duckdb_file(clean_env: Path) -> None:
    s = load_settings()
    assert s.resolved_warehouse_url == f"duckdb://{clean_env / 'data' / 'opskit.duckdb'}"
    assert s.newrelic.mode is SourceMode.AUTO
    assert s.cache_ttl_s == 300


def test_precedence_is_arguments_then_env_then_dotenv_then_toml(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / "opskit.toml").write_text(
        "cache_ttl_s = 10\ndemo_seed = 1\ndemo_scale = 0.5\n[jira]\nbase_url = 'https://toml.invalid'\n"
    )
    assert load_settings().cache_ttl_s == 10
    (clean_env / ".env").write_text("OPSKIT_CACHE_TTL_S=20\nOPSKIT_DEMO_SEED=2\n")
    s = load_settings()
    assert (s.cache_ttl_s, s.demo_seed, s.demo_scale) == (20, 2, 0.5)
    assert s.jira.base_url == "https://toml.invalid"
    monkeypatch.setenv("OPSKIT_CACHE_TTL_S", "30")
    monkeypatch.setenv("OPSKIT_JIRA__BASE_URL", "https://env.invalid")
    s = load_settings()
    assert (s.cache_ttl_s, s.demo_seed) == (30, 2)
    assert s.jira.base_url == "https://env.invalid"
    assert load_settings(cache_ttl_s=40).cache_ttl_s == 40


def test_relative_duckdb_url_resolves_against_the_project_home(clean_env: Path) -> None:
    s = load_settings(warehouse_url="duckdb://elsewhere/wh.duckdb")
    assert s.warehouse_path == clean_env / "elsewhere" / "wh.duckdb"


def test_secrets_are_masked_in_public_settings_and_repr(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSKIT_NEWRELIC__API_KEY", "NRAK-SUPERSECRET123")
    monkeypatch.setenv("OPSKIT_NEWRELIC__ACCOUNT_ID", "42")
    s = load_settings()
    assert s.newrelic.is_configured
    assert "SUPERSECRET" not in repr(s)
    assert "SUPERSECRET" not in str(s.public())
    assert s.public()["sources"]["newrelic"]["api_key"] == "set (hidden)"


def test_invalid_setting_raises_config_error_naming_the_setting_not_the_value(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSKIT_NEWRELIC__REGION", "mars-secret-value")
    with pytest.raises(ConfigError, match=r"newrelic\.region") as info:
        load_settings()
    assert "mars-secret-value" not in str(info.value)


def test_unknown_source_is_a_config_error(clean_env: Path) -> None:
    with pytest.raises(ConfigError, match="valid sources: newrelic"):
        load_settings().source("splunk")


def test_project_root_finds_the_nearest_opskit_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPSKIT_HOME", raising=False)
    (tmp_path / "opskit.toml").write_text("")
    nested = tmp_path / "notebooks" / "analyses"
    nested.mkdir(parents=True)
    assert project_root(nested) == tmp_path


def test_importing_opskit_reads_no_settings_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "opskit.toml").write_text("this is = not [valid toml")
    code = "import opskit, opskit.catalog, opskit.cli; print('ok')"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "OPSKIT_HOME": str(tmp_path)}, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["opskit.toml"]
