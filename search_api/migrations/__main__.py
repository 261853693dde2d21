"""``python -m search_api.migrations revision -m ...`` for developers writing a migration."""

import sys

from search_api.migrations import main

sys.exit(main(sys.argv[1:]))
