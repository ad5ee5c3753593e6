#!/bin/bash
# An unknown option stops tools/setup.sh before it installs anything.
set -u
out="$TEST_TMPDIR/out"
bash tools/setup.sh --no-such-option >"$out" 2>&1
rc=$?
if [[ $rc -ne 2 ]]; then echo "FAIL: exit $rc, want 2"; cat "$out"; exit 1; fi
if ! grep -q "unknown option '--no-such-option' (allowed: --bench, --golden, --fuzz)" "$out"; then
  echo "FAIL: message"; cat "$out"; exit 1
fi
echo PASS
