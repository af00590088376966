#!/usr/bin/env bash
# Each extra installed alone in a fresh virtual environment runs one command of its own: what a user who
# installs only that part gets. Needs a running Argilla (scripts/argilla-local.sh start) for the review check.
#
#   bash scripts/extras_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fresh() {  # fresh NAME SPEC: a venv with `pip install SPEC` from this checkout
    python3 -m venv "$work/$1"
    "$work/$1/bin/python" -m pip install --quiet --disable-pip-version-check "$2"
}

echo "[extras] base install: gen run + gen pairs --rejected corruptions (no Argilla, no torch)"
fresh base "$root"
"$work/base/bin/gen" run recipe mac_assistant --out "$work/plans" -n 30 --teacher template >/dev/null
"$work/base/bin/gen" pairs "$work/plans" --out "$work/pairs" --rejected corruptions >/dev/null
test -f "$work/pairs/pairs.json"

echo "[extras] [review] alone: gen review status against the local Argilla"
fresh review "$root[review]"
status=0
"$work/review/bin/gen" review status --dataset planforge-no-such-dataset 2>"$work/review.err" || status=$?
grep -q "no dataset 'planforge-no-such-dataset'" "$work/review.err" || { cat "$work/review.err"; exit 1; }
test "$status" = 2

echo "[extras] [publish] alone: gen report"
fresh publish "$root[publish]"
"$work/publish/bin/gen" report "$work/plans" --out "$work/report.html" >/dev/null
test -s "$work/report.html"

echo "[extras] a missing extra is one line: gen report with the base install"
status=0
"$work/base/bin/gen" report "$work/plans" 2>"$work/base.err" || status=$?
grep -q "needs the publish extra" "$work/base.err" || { cat "$work/base.err"; exit 1; }
test "$status" = 2
echo "[extras] all passed"
