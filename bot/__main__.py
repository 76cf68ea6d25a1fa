"""`python -m bot` is `atelier`."""

import sys

from bot.cli import main

sys.exit(main())
