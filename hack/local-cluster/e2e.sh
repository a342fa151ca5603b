#!/usr/bin/env bash
# make cluster-e2e: the store on a real single-node cluster, end to end.
#
#   1. up        hack/local-cluster/up.sh (builds pinned tools on the first run)
#   2. deploy    skaffold run (profile local-cluster: local bases, local registry)
#   3. rollout   every Deployment and the StatefulSet available
#   4. e2e       the black-box e2e tests against the gateway's NodePort
#   5. cluster   e2e/cluster_test.go: what only a real cluster shows
#   6. down      always, also after a failure (KEEP_CLUSTER=1 keeps it up)
#
# Prints each phase's duration; exits non-zero if any phase failed.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root" || exit 1

declare -a report=()
status=0
phase() { # phase NAME CMD...: runs and times one phase
	local name=$1 t=$SECONDS rc
	shift
	log "=== phase $name"
	"$@"
	rc=$?
	report+=("$(printf '%-8s %4ds  %s' "$name" $((SECONDS - t)) "$([ $rc = 0 ] && echo ok || echo "FAILED (exit $rc)")")")
	log "=== phase $name: $((SECONDS - t))s, exit $rc"
	return $rc
}
summary() {
	echo
	echo "cluster-e2e phases:"
	printf '  %s\n' "${report[@]}"
	echo "  total    $((SECONDS - start))s"
}
finish() {
	if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
		log "KEEP_CLUSTER=1: cluster left up; source $STATE/env, then hack/local-cluster/down.sh"
	else
		phase down "$here/down.sh" || status=1
	fi
	summary
}
start=$SECONDS
trap 'finish; exit $status' EXIT
trap 'exit 130' INT TERM

phase up "$here/up.sh" || { status=1; exit; }
# shellcheck disable=SC1091
source "$STATE/env"

deploy() {
	local skaffold home=$STATE/skaffold-home
	skaffold=$("$root/hack/k8s/tools.sh" skaffold) || return 1
	mkdir -p "$home/.skaffold"
	printf 'global:\n  collect-metrics: false\n  update-check: false\n  survey:\n    disable-prompt: true\n' >"$home/.skaffold/config"
	# /usr/bin first: Debian's docker client does BuildKit without buildx.
	HOME=$home PATH=/usr/bin:$PATH SKAFFOLD_UPDATE_CHECK=false DOCKER_BUILDKIT=1 \
		nice -n 10 "$skaffold" run --kube-context bookstore-local --default-repo "$BOOKSTORE_CLUSTER_REGISTRY" \
		--status-check=true --port-forward=off --cache-artifacts=true
}
rollout() {
	local k=(kubectl -n bookstore)
	"${k[@]}" rollout status statefulset/mysql --timeout=300s &&
		for d in account warehouse payment gateway; do "${k[@]}" rollout status "deployment/$d" --timeout=300s || return 1; done &&
		"${k[@]}" get pods -o wide
}
e2e() {
	CLUSTER_GATEWAY_URL=$CLUSTER_GATEWAY_URL go test -count=1 -v -run "${E2E_RUN:-^(TestAccounts|TestCatalogue|TestOAuthTokens|TestLegacyToken|TestPurchaseFlow|TestSettlementErrors)$}" ./e2e/ 2>&1 |
		grep -E '^(=== RUN|--- |PASS|FAIL|ok|\s+\S+_test.go)' ; return "${PIPESTATUS[0]}"
}
cluster() {
	CLUSTER_GATEWAY_URL=$CLUSTER_GATEWAY_URL CLUSTER_NAMESPACE=bookstore \
		go test -count=1 -v -timeout 20m -run "${CLUSTER_RUN:-^TestCluster}" ./e2e/ 2>&1 |
		grep -vE '^\s*$' ; return "${PIPESTATUS[0]}"
}

phase deploy deploy || { status=1; exit; }
phase rollout rollout || { status=1; kubectl -n bookstore get pods -o wide; exit; }
phase e2e e2e || status=1
phase cluster cluster || status=1
