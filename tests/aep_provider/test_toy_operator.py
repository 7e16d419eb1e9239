"""The toy operator of the how-to: rows in, {key: title} out, against the emulator."""

from __future__ import annotations

from aep_provider.operators.schema import AepCreateTargetSchemaOperator
from aep_provider.operators.toy import AepGetSchemaTitleOperator


def test_the_toy_reads_each_rows_schema_title(aep_conn_env, make_context):
    schemas = AepCreateTargetSchemaOperator(
        task_id="s", for_each=[{"key": "a", "title": "Toy A"}, {"key": "b", "title": "Toy B"}]
    ).execute(make_context())
    ctx = make_context()
    titles = AepGetSchemaTitleOperator(task_id="t", for_each=[{"key": "a"}, {"key": "b"}], inputs={"schema_id": schemas})
    assert titles.execute(ctx) == {"a": "Toy A", "b": "Toy B"}
    assert sorted(ctx["ti"].xcom["meta_alt_id"]) == ["a", "b"]
