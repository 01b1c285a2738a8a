#!/usr/bin/env bash
# Runs every tests/scenario/test_*.py (each starts its own hadrd) and prints
# "scenario: N passed, N failed" last.
cd "$(dirname "$0")" || exit 2
p=0; f=0
for t in test_*.py; do
  echo "== $t"
  if timeout 600 /usr/bin/python3 "$t" --hadrd ../../build/hadrd; then p=$((p+1)); else f=$((f+1)); echo "$t FAILED"; fi
done
mkdir -p ../../build; echo "$p $f" >> ../../build/test-counts
echo "scenario: $p passed, $f failed"
[ "$f" -eq 0 ]
