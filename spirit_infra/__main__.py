"""``python -m spirit_infra``."""

import sys

from .cli import main

sys.exit(main())
