# Airflow 3 with this project's provider (aep_provider), DAG factory (aep_onboarding)
# and AEP emulator (aep-emulator, the `emulator` extra: docker-compose.yaml runs it from this
# image) installed. Used by docker-compose.yaml.
#
#   docker build -t airflow-aep-onboarding .
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2
FROM ${AIRFLOW_IMAGE}

USER airflow
WORKDIR /opt/aep
COPY --chown=airflow:root pyproject.toml README.md ./
COPY --chown=airflow:root plugins ./plugins
COPY --chown=airflow:root include ./include

# Pin Airflow to the image's version so pip never up- or downgrades it, and keep Celery
# below 5.7: apache-airflow-providers-celery 3.26 imports celery.backends.database.retry,
# which Celery 5.7 removed (the worker does not start).
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" "celery[redis]>=5.5,<5.7" "/opt/aep[emulator]" \
    && python -c "import aep_provider, aep_onboarding, aep_emulator.cli"

# The specs the DAG file builds DAGs from; docker-compose.yaml mounts the repo's include/
# over this path so edited specs show up without a rebuild.
ENV AEP_SPECS_DIR=/opt/airflow/include/onboarding
COPY --chown=airflow:root include/onboarding /opt/airflow/include/onboarding
COPY --chown=airflow:root dags /opt/airflow/dags
WORKDIR /opt/airflow
