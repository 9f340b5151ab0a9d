"""``python -m dualuse ...`` is the ``dualuse`` command (works without the console script on PATH)."""

import sys

from .cli import main

sys.exit(main())
