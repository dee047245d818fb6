"""Run the engine's command line: `python -m protoengine breaking|lint ...` (no Django needed)."""

import sys

from protoengine.cli import main

sys.exit(main())
