"""``python -m expkit``: the ``expkit`` command."""

import sys

from expkit.cli import main

sys.exit(main())
