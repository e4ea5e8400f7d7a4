"""Write the synthetic national benchmark instance (the generator is data/national/build.py).

    python benchmarks/national.py OUT_DIR [--seed 2016] [--budget]

writes ``OUT_DIR/units.csv``, ``OUT_DIR/projects.csv`` and ``OUT_DIR/national.toml``; see
``data/national/build.py`` for what they hold.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "national_build", Path(__file__).resolve().parent.parent / "data" / "national" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

write = build.write


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="folder to write units.csv, projects.csv and national.toml into")
    p.add_argument("--seed", type=int, default=2016)
    p.add_argument("--budget", action="store_true", help="add a national fiscal budget per year")
    args = p.parse_args()
    print(write(args.out, args.seed, args.budget))


if __name__ == "__main__":
    main()
