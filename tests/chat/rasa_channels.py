"""Runs under the bot's Python (.venv/py310): Rasa's server with the input channels of
bot/credentials.yml (bot/channels.py), as ``rasa run`` configures them, but without a model.

The embed's browser tests use it for what needs no bot answer: the socket.io channel's
origin check (HELPDESK_CHAT_ORIGINS) and its log of refused origins. Rasa itself refuses
to start without a trained model; the channels do not need one until a message arrives.

    python rasa_channels.py PORT      # serves until terminated; logs to stderr
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"


def main(port: int) -> None:
    os.chdir(BOT)  # credentials.yml names `channels.…`, importable from bot/ as Rasa runs it
    sys.path.insert(0, str(BOT))
    from rasa.core.run import configure_app, create_http_input_channels

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    channels = create_http_input_channels(None, "credentials.yml")
    app = configure_app(channels, enable_api=False, port=port)
    app.run(host="127.0.0.1", port=port, workers=1, access_log=False)


if __name__ == "__main__":
    main(int(sys.argv[1]))
