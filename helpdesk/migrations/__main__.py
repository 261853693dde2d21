"""``python -m helpdesk.migrations revision -m ...`` for developers writing a migration."""

import sys

from helpdesk.migrations import main

sys.exit(main(sys.argv[1:]))
