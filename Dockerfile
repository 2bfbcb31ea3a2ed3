FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -e . && useradd --create-home fhir && mkdir -p /data && chown fhir /data
USER fhir
ENV FHIR_DATA_DIR=/data FHIR_BASE_URL=http://localhost:8080/fhir
EXPOSE 8080
CMD ["fhir-server", "serve", "--host", "0.0.0.0", "--port", "8080"]
