#!/usr/bin/env bash
# `make test`: the normal build and every test, then the core libraries' tests in a clang build
# with AddressSanitizer and UndefinedBehaviorSanitizer, then one summary line for both.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

make --no-print-directory build || { echo "0 passed, 1 failed (build)"; exit 1; }
( cd build && ctest --output-on-failure -j "$jobs" ) | tee /tmp/parley-ctest-main.log
main_rc=${PIPESTATUS[0]}

make --no-print-directory test-asan 2>&1 | tee /tmp/parley-ctest-asan.log
asan_rc=${PIPESTATUS[0]}

count() {  # passed failed from a ctest log
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$1" | tail -1)
  if [ -z "$line" ]; then echo "0 1"; return; fi
  local failed total
  failed=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
  total=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
  echo "$((total - failed)) $failed"
}
read -r mp mf < <(count /tmp/parley-ctest-main.log)
read -r ap af < <(count /tmp/parley-ctest-asan.log)
echo "main build: $mp passed, $mf failed; sanitizer build: $ap passed, $af failed"
echo "$((mp + ap)) passed, $((mf + af)) failed"
[ "$main_rc" -eq 0 ] && [ "$asan_rc" -eq 0 ]
