# Sourced by the CLI tests: the ward binary (made absolute), PASS/FAIL
# counting (a test ends with "exit $((fails > 0))" or its own summary) and a
# private directory $tmp; each test sets its own trap to remove it.
# Env: WARD.
set -u
WARD=${WARD:?set WARD to the ward binary}
case $WARD in /*) ;; *) WARD=$PWD/$WARD ;; esac
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }

tmp=$(mktemp -d)
