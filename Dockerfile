# The FHIR server's image: `docker build -t fhir-server .` (see README.md, "Container").
# Stage 1 installs the project and its dependencies into a virtualenv; the final image gets that virtualenv and the
# sources only: no compiler, no pip cache, no build tools, a non-root user.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY resources ./resources
COPY profiles ./profiles
COPY migrations ./migrations
# install: the virtualenv, then the project (editable: it reads resources/, profiles/, migrations/ beside server/)
RUN python -m venv /opt/fhir && /opt/fhir/bin/pip install -e /app

FROM python:3.11-slim
ENV PATH=/opt/fhir/bin:$PATH PYTHONUNBUFFERED=1 FHIR_DATA_DIR=/data FHIR_BASE_URL=http://localhost:8080/fhir
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin fhir && mkdir -p /data && chown fhir /data
COPY --from=build /opt/fhir /opt/fhir
COPY --from=build /app /app
WORKDIR /app
USER fhir
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"]
# start: migrations, then the API (DATABASE_URL set: that PostgreSQL; unset: an embedded one under /data)
CMD ["fhir-server", "serve", "--host", "0.0.0.0", "--port", "8080"]
