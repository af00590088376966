#!/usr/bin/env bash
# Install everything the tests need and run them: the README's test command, and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# torch first, pinned: a CPU build; an unpinned torch pulls gigabytes of CUDA wheels.
python3 -m pip install --quiet --disable-pip-version-check torch==2.13.0
python3 -m pip install --quiet --disable-pip-version-check -e ".[all]"

ruff check planforge tests benchmarks scripts
python3 -m pytest -q -p no:cacheprovider "$@"
