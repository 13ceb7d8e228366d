# Huashu service image: the engine, flows and phrasings, served by uvicorn.
# SQLite (in /data) by default; set HUASHU_DATABASE_URL=postgresql+psycopg://… and run
# `huashu db upgrade` once for PostgreSQL, HUASHU_REDIS_URL for several workers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HUASHU_DATABASE_URL=sqlite:////data/huashu.db

WORKDIR /srv/huashu
COPY pyproject.toml README.md ./
COPY app ./app
COPY flows ./flows
COPY scripts_zh ./scripts_zh
# The package reads flows/ and scripts_zh/ from here (not from site-packages); the intent model fit
# from them is kept in the model cache, baked in below so that a container starts without fitting.
ENV HUASHU_FLOWS_DIR=/srv/huashu/flows \
    HUASHU_SCRIPTS_DIR=/srv/huashu/scripts_zh \
    HUASHU_MODEL_CACHE=/srv/huashu/model-cache
RUN pip install . \
    && useradd --system --home /srv/huashu huashu \
    && mkdir -p /data && chown huashu /data \
    && huashu analyze 你好 > /dev/null && chown -R huashu "$HUASHU_MODEL_CACHE"
USER huashu
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status==200 else 1)"
CMD ["huashu", "serve", "--host", "0.0.0.0", "--port", "8000"]
