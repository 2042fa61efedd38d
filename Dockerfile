# Rolecall: the webhook server and workers in one image.
# bubblewrap needs unprivileged user namespaces; run the container with
# `--security-opt seccomp=unconfined --security-opt apparmor=unconfined` (or a
# profile that allows them) so the sandbox can start.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends git bubblewrap \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 rolecall
WORKDIR /app
COPY pyproject.toml README.md app.yml ./
COPY bot ./bot
COPY handlers ./handlers
COPY agents ./agents
COPY standins ./standins
RUN pip install --no-cache-dir .

USER rolecall
ENV ROLECALL_DATA_DIR=/home/rolecall/data PORT=3000
VOLUME ["/home/rolecall/data"]
EXPOSE 3000
CMD ["rolecall", "serve"]
