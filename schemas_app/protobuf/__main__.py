"""Run the engine's command line: `python -m schemas_app.protobuf breaking|lint ...` (no Django needed)."""
import sys

from schemas_app.protobuf.cli import main

sys.exit(main())
