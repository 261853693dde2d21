# Rasa 3.6 and its action server: Python 3.10 (Rasa 3.6 supports 3.8-3.10 only).
# One image, two commands: `rasa run ...` (the default) and `rasa run actions ...`.
#   docker build -f deploy/docker/bot.Dockerfile -t helpdesk-bot .
# The model is trained while building, so every replica serves the same one.
FROM python:3.10-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 RASA_TELEMETRY_ENABLED=false
WORKDIR /srv/app
COPY requirements/bot.lock requirements/
RUN pip install --no-cache-dir -r requirements/bot.lock
COPY config.yml ./
COPY bot bot
RUN rasa train --config config.yml --domain bot/domain.yml --data bot/data \
      --out bot/models --fixed-model-name helpdesk
RUN useradd --system --home-dir /srv/app helpdesk && chown -R helpdesk /srv/app/bot
USER helpdesk
EXPOSE 5005 5055
# bot/endpoints.yml takes ACTION_ENDPOINT_URL, RASA_TRACKER_STORE_URL, RASA_LOCK_STORE and
# RASA_REDIS_HOST from the environment; the private channel's token from HELPDESK_RASA_TOKEN
# (bot/channels.py). No --enable-api: Rasa's HTTP API is not served; bot/ is the working
# directory so credentials.yml can name channels.*.
WORKDIR /srv/app/bot
CMD ["rasa", "run", "--port", "5005", "--model", "models/helpdesk.tar.gz", "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"]
