"""``python -m helpdesk.i18n update | check``: the catalogs' update and check (``helpdesk.i18n.extract``)."""

import sys

from helpdesk.i18n.extract import main

sys.exit(main())
