import sys

from expkit.cli import main

sys.exit(main())
