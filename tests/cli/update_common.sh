# Sourced by the update tests (tests/cli/test_update_*.sh): the ward binary,
# PASS/FAIL counting, a private directory removed at exit together with the
# HTTP server whose pid is in $srv, and a fresh four-role repository.
# Env: WARD.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1

# new_repo: keys/{root,targets,snap,ts}.pem and a repository in ./repo whose
# root is signed.
new_repo() {
	mkdir keys
	for k in root targets snap ts; do "$WARD" repo keygen keys/$k.pem > /dev/null; done
	"$WARD" repo init repo --root-key keys/root.pem --targets-key keys/targets.pem \
		--snapshot-key keys/snap.pem --timestamp-key keys/ts.pem > /dev/null
	"$WARD" repo sign repo root --key keys/root.pem > /dev/null
}
