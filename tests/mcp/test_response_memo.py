"""Tool responses are replayed from memory, but a live answer never is."""

from __future__ import annotations

from pathlib import Path

import pytest

from opskit.config import Settings, load_settings
from opskit.mcpserver import ANALYSIS_TOOLS, build_server, warm_up
from opskit.mcpserver._runtime import Runtime


@pytest.mark.parametrize(("kind", "computed"), [("demo", 1), ("cache", 1), ("live", 2)])
def test_repeat_call_is_memoised_unless_live(settings: Settings, kind: str, computed: int) -> None:
    runtime = Runtime(settings)
    calls: list[int] = []

    def compute() -> dict[str, object]:
        calls.append(1)
        return {"data": kind, "n": len(calls)}

    tool = f"memo_{kind}"
    first = runtime.memoised(tool, {"a": 1}, compute)
    again = runtime.memoised(tool, {"a": 1}, compute)
    assert len(calls) == computed and first["n"] == 1
    assert again["n"] == computed
    runtime.memoised(tool, {"a": 2}, compute)  # other arguments: computed
    assert len(calls) == computed + 1


def test_a_demo_answer_is_stored_for_the_next_server_and_a_live_one_never(
    settings: Settings,
) -> None:
    calls: list[str] = []

    def answer(kind: str):  # type: ignore[no-untyped-def]
        def compute() -> dict[str, object]:
            calls.append(kind)
            return {"data": kind, "value": 1.25}

        return compute

    Runtime(settings).memoised("stored_demo", {}, answer("demo"))
    Runtime(settings).memoised("stored_live", {}, answer("live"))
    later = Runtime(settings)  # a new server on the same warehouse build
    assert later.memoised("stored_demo", {}, answer("demo")) == {"data": "demo", "value": 1.25}
    later.memoised("stored_live", {}, answer("live"))
    assert calls == ["demo", "live", "live"]


def test_warm_up_stores_every_default_answer_for_the_next_server(
    demo_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSKIT_HOME", str(tmp_path))  # an empty answer store
    settings = load_settings()
    warm_up(build_server(settings)).join(timeout=600)

    def recompute() -> dict[str, object]:
        raise AssertionError("the warm-up should have stored this answer")

    later = Runtime(settings)
    for tool in ANALYSIS_TOOLS:
        answer = later.memoised(tool, {}, recompute)
        assert answer["data"] == "demo" and answer["answer"], tool
