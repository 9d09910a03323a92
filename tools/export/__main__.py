"""`python -m tools.export ...`: see tools/export/README.md."""
import sys

from .cli import main

sys.exit(main())
