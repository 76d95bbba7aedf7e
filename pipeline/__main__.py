"""Maintenance commands: python -m pipeline figures | notebooks | accept TOPIC."""

import importlib
import sys

if __name__ == "__main__":
    if sys.argv[1:2] not in (["figures"], ["notebooks"], ["accept"]):
        sys.exit("usage: python -m pipeline figures|notebooks|accept TOPIC")
    command = importlib.import_module(f"pipeline.{sys.argv[1]}")
    sys.exit(command.main(sys.argv[2:]) if sys.argv[1] == "accept" else command.main())
