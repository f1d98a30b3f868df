# seqdigits service: docker build -t seqdigits . && docker run -p 8000:8000 seqdigits
# For a lean CPU-only image, pass PyTorch's CPU wheel index:
#   docker build --build-arg PIP_EXTRA_INDEX_URL=<PyTorch CPU wheel index> -t seqdigits .
FROM python:3.11-slim

ARG PIP_EXTRA_INDEX_URL=""
ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

RUN useradd --create-home --uid 10001 app
WORKDIR /app
COPY pyproject.toml README.md ./
COPY seqdigits ./seqdigits
COPY segmentation ./segmentation
COPY classifier ./classifier
COPY service ./service
COPY datasets ./datasets
RUN pip install "torch>=2.2,<3" && pip install .

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
# One worker per core; put a reverse proxy (TLS, buffering) in front, see README.
CMD ["seqdigits", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
