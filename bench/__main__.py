"""`python -m bench [NAME ...]`: run benchmarks (all by default), one JSON line per figure."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import bench.benchmarks as suite
from bench.harness import REGISTRY, emit


def main() -> int:
    for info in pkgutil.iter_modules(suite.__path__):
        importlib.import_module(f"bench.benchmarks.{info.name}")
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"any of: {', '.join(sorted(REGISTRY))}")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(sorted(REGISTRY)))
        return 0
    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        print(f"error: unknown benchmark {unknown[0]!r}", file=sys.stderr)
        return 2
    for name in args.names or sorted(REGISTRY):
        for figure in REGISTRY[name]():
            emit(figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
