"""Store the deployment's connections (aep_default, hubspot_default) in the metadata database.

Run by airflow-up.sh after ``airflow db migrate``, with the deployment's environment (database URL and
Fernet key), so passwords and extras are stored encrypted. For each connection, the JSON comes from
``AEP_CONN_<ID>_JSON``; ``AEP_CONN_<ID>_GIVEN=1`` means the user set it (``AIRFLOW_CONN_<ID>``) and it
replaces the stored one; otherwise a stored connection is kept as it is (edits made in the UI survive a
restart) and only a missing one is created. Secrets are never printed.
"""

from __future__ import annotations

import os

CONNECTIONS = ("aep_default", "hubspot_default")


def main() -> None:
    from airflow.models import Connection
    from airflow.utils.session import create_session

    with create_session() as session:
        for conn_id in CONNECTIONS:
            var = f"AEP_CONN_{conn_id.upper()}"
            raw = os.environ.get(f"{var}_JSON")
            if not raw:
                continue
            given = os.environ.get(f"{var}_GIVEN") == "1"
            stored = session.query(Connection).filter(Connection.conn_id == conn_id).one_or_none()
            if stored is not None and not given:
                print(f"{conn_id}: kept the stored connection ({stored.conn_type})")
                continue
            if stored is not None:
                session.delete(stored)
                session.flush()
            conn = Connection.from_json(raw, conn_id=conn_id)
            if conn.port is None:
                conn.port = 0  # what the Connections page's Test button sends for "no port"
            session.add(conn)
            print(f"{conn_id}: {'replaced' if stored is not None else 'stored'} ({conn.conn_type}, "
                  f"password encrypted: {conn.is_encrypted}, extra encrypted: {conn.is_extra_encrypted})")


if __name__ == "__main__":
    main()
