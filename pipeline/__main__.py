"""Maintenance commands: python -m pipeline figures | notebooks."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "figures":
        from pipeline.figures import main as figures

        return figures()
    if command == "notebooks":
        from pipeline.notebooks import main as notebooks

        return notebooks()
    print("usage: python -m pipeline figures|notebooks", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
