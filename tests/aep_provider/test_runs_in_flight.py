"""Window runs of one flow side by side: a new on-demand run starts only while fewer than ``max_runs_in_flight`` of
the flow's runs are going (Adobe documents no limit; the setting is ours, the spec's ``window_runs_in_flight``)."""

from __future__ import annotations

import pytest
from aep_provider_chain import hubspot_conn_env, onboard, only

from aep_provider.hooks.errors import AepError
from aep_provider.operators.flow import AepRunFlowOperator


@pytest.fixture
def chain(aep_conn_env, monkeypatch, make_context):
    hubspot_conn_env(monkeypatch)
    return onboard(make_context, run=False)


def _window(chain, month: int, **kw) -> AepRunFlowOperator:
    return AepRunFlowOperator(
        task_id="run", flow_id=chain["flow"], delta_column="Added_At", own_run_poll_seconds=0.1,
        window_start=f"2025-{month:02d}-01T00:00:00Z", window_end=f"2025-{month + 1:02d}-01T00:00:00Z", **kw,
    )


def test_a_window_waits_while_the_flow_has_its_limit_of_runs_going(aep_conn_env, chain, make_context) -> None:
    """Two windows' runs are going on a flow with room for two: the third waits, then fails naming them and the fix
    when none ends in time; once they end it starts."""
    aep_conn_env.admin.configure(run_duration_seconds=3600)
    going = [only(_window(chain, month, max_runs_in_flight=2).execute(make_context())) for month in (1, 2)]
    with pytest.raises(AepError, match="max_runs_in_flight=2") as err:
        _window(chain, 3, max_runs_in_flight=2, room_timeout_seconds=0.5).execute(make_context())
    assert all(run_id in str(err.value) for run_id in going)
    assert "window_runs_in_flight" in str(err.value)
    aep_conn_env.admin.advance(3601)  # both runs end
    assert only(_window(chain, 3, max_runs_in_flight=2, room_timeout_seconds=0.5).execute(make_context()))


def test_without_a_limit_windows_start_side_by_side(aep_conn_env, chain, make_context) -> None:
    aep_conn_env.admin.configure(run_duration_seconds=3600)
    started = {only(_window(chain, month).execute(make_context())) for month in (1, 2, 3)}
    assert len(started) == 3
