"""Maintenance commands: python -m pipeline figures | notebooks."""

import importlib
import sys

if __name__ == "__main__":
    if sys.argv[1:] not in (["figures"], ["notebooks"]):
        sys.exit("usage: python -m pipeline figures|notebooks")
    sys.exit(importlib.import_module(f"pipeline.{sys.argv[1]}").main())
