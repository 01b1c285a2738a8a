#!/usr/bin/env bash
# Runs every tests/drivers/test_*.py (one per client driver, each starting its
# own hadrd), appends "passed failed" to build/test-counts and prints
# "drivers: N passed, N failed" last.
cd "$(dirname "$0")" || exit 2
export PYTHONDONTWRITEBYTECODE=1
p=0; f=0
for t in test_*.py; do
  echo "== $t"
  if timeout 900 /usr/bin/python3 "$t" --hadrd ../../build/hadrd; then p=$((p+1)); else f=$((f+1)); echo "$t FAILED"; fi
done
mkdir -p ../../build; echo "$p $f" >> ../../build/test-counts
echo "drivers: $p passed, $f failed"
[ "$f" -eq 0 ]
