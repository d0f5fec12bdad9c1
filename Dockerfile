FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    EMULATOR_HOST=0.0.0.0 \
    EMULATOR_PORT=8000

RUN useradd --create-home --uid 10001 emulator
WORKDIR /app
COPY pyproject.toml README.md ./
COPY emulator ./emulator
COPY fixtures ./fixtures
COPY scenarios ./scenarios
RUN pip install --no-cache-dir .

# The image listens on 0.0.0.0: on a shared host protect the control API with a token, e.g.
#   docker run -e EMULATOR_ADMIN_TOKEN="$(python3 -c 'import secrets; print(secrets.token_hex(16))')" ...
# and send it as `Authorization: Bearer <token>` (serve warns when it is missing).
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/_emulator/ready', timeout=2)"]
CMD ["btc-market-emulator", "serve"]
