"""Stand-in for dag-factory inside the benchmark's Airflow deployment only (see ``plugin.py``)."""
