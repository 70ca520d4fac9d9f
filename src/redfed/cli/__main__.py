"""`python -m redfed.cli …`: the same as the `redfed` console script."""

from __future__ import annotations

import sys

from redfed.cli import main

if __name__ == "__main__":
    sys.exit(main())
