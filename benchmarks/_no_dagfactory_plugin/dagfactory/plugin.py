"""An empty stand-in for dag-factory's Airflow plugin, put first on the deployment's PYTHONPATH.

dag-factory (installed in .venv by the ``bench`` extra for the parse benchmark) registers
``dagfactory.plugin:DagFactoryPlugin`` as an ``airflow.plugins`` entry point, so every Airflow
process of a deployment from that venv imports dag-factory and ``airflow.models.dagrun``
(about 1.7 s of CPU per process on the benchmark machine), task processes included. The
deployment under test is ours, not dag-factory's: the benchmark's deployment resolves the
entry point to this plugin, which does nothing.
"""

from airflow.plugins_manager import AirflowPlugin


class DagFactoryPlugin(AirflowPlugin):
    name = "Dag Factory Plugin (disabled by the benchmark)"
