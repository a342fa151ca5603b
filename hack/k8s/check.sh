#!/usr/bin/env bash
# make k8s-check: every check of the Kubernetes delivery that runs offline,
# with no cluster and no Docker daemon. Needs Go; builds its pinned tools into
# bin/ on the first run (hack/k8s/tools.sh).
#
#   1. kustomize build of the base and of every overlay
#   2. kubeconform -strict, against the schemas committed in k8s/schemas, of
#      every resource file (errors name the file) and of every rendering;
#      the schemas must be exactly those of the kinds in use, and a known
#      broken manifest must be rejected
#   3. manifests vs configs (hack/k8s/cmd/manifestcheck): hardening, each
#      service's ConfigMap + env loaded into its own typed Config, addresses
#      followed through Services, network policies, the kind port mapping
#   4. skaffold diagnose and skaffold render --offline (skaffold v2.16.1)
#   5. the unit tests of hack/k8s
#
# The last line reads "k8s-check: N passed, N failed"; the exit status is 1
# if anything failed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 1
export GOFLAGS=${GOFLAGS:--buildvcs=false}
start=$SECONDS
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/k8s-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

step() { printf '\n==> %s\n' "$*"; }
ok() {
	passed=$((passed + 1))
	printf '  ok    %s\n' "$*"
}
fail() { # fail WHAT OUTPUT-FILE
	failed=$((failed + 1))
	printf '  FAIL  %s\n' "$1"
	if [ -s "${2:-/dev/null}" ]; then sed 's/^/        /' "$2"; fi
}
# run WHAT CMD...: one check, its output shown only when it fails.
run() {
	local what=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then ok "$what"; else fail "$what" "$tmp/out"; fi
}
finish() {
	printf '\n==> done in %ds\n' $((SECONDS - start))
	echo "k8s-check: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

step "tools (pinned; built into bin/ on first use)"
if ! tools=$(hack/k8s/tools.sh kubeconform skaffold kustomize 2>"$tmp/tools"); then
	fail "build the pinned tools" "$tmp/tools"
	finish
fi
{ read -r kubeconform; read -r skaffold; read -r kustomize; } <<<"$tools"
echo "  kubeconform $("$kubeconform" -v)   skaffold $("$skaffold" version)   kustomize via $kustomize"
if [ "$(basename "$kustomize")" = kubectl ]; then
	kustomize_build() { "$kustomize" kustomize --load-restrictor=LoadRestrictionsNone "$1"; }
else
	kustomize_build() { "$kustomize" build --load-restrictor=LoadRestrictionsNone "$1"; }
fi
mkdir -p "$tmp/go"
if ! (cd hack/k8s && GOWORK=off go build -o "$tmp/go/" ./cmd/manifestcheck ./cmd/schemagen) >"$tmp/out" 2>&1; then
	fail "build hack/k8s/cmd/{manifestcheck,schemagen}" "$tmp/out"
	finish
fi

step "kustomize build (--load-restrictor=LoadRestrictionsNone: ConfigMaps come from <service>/conf/config.toml)"
rendered=()
for dir in k8s/base k8s/overlays/*/; do
	dir=${dir%/}
	out=$tmp/rendered/$dir.yaml
	mkdir -p "$(dirname "$out")"
	if kustomize_build "$dir" >"$out" 2>"$tmp/out"; then
		ok "$dir: $(grep -c '^kind:' "$out") resources"
		rendered+=("$dir=$out")
	else
		fail "$dir does not build" "$tmp/out"
	fi
done

step "kubeconform -strict against k8s/schemas"
schemas="$root/k8s/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json"
kubeconform_run() { "$kubeconform" -strict -summary -schema-location "$schemas" "$@"; }
# Resource files as written: an error names the file. Patches are partial
# resources and kustomization files are not resources; both are checked
# through the renderings.
mapfile -t sources < <(find k8s/base k8s/components -name '*.yaml' ! -name 'kustomization.yaml' ! -path '*/patches/*' | sort)
run "${#sources[@]} resource files under k8s/base and k8s/components" kubeconform_run "${sources[@]}"
# Renderings are files of ours in $tmp: name them by their folder instead.
kubeconform_rendered() {
	local status=0
	kubeconform_run "$2" >"$tmp/kc" 2>&1 || status=$?
	sed "s#^$2 - #$1 (rendered) - #" "$tmp/kc"
	return "$status"
}
for r in "${rendered[@]}"; do
	run "${r%%=*} as rendered" kubeconform_rendered "${r%%=*}" "${r#*=}"
done
run "k8s/schemas holds the schemas of exactly the kinds in use" \
	"$tmp/go/schemagen" -check -out k8s/schemas "${sources[@]}" "${rendered[@]#*=}"
if kubeconform_run hack/k8s/testdata/broken.yaml >"$tmp/out" 2>&1; then
	fail "kubeconform rejects hack/k8s/testdata/broken.yaml (it accepted it: the schemas are not strict)" "$tmp/out"
else
	ok "kubeconform rejects hack/k8s/testdata/broken.yaml (strict schemas)"
fi

step "manifests vs configs (hack/k8s/cmd/manifestcheck)"
overlays=()
for r in "${rendered[@]}"; do
	case $r in k8s/overlays/*) overlays+=("$r") ;; esac
done
"$tmp/go/manifestcheck" -repo "$root" -kind-config k8s/kind.yaml "${overlays[@]}" >"$tmp/mc" 2>&1
mc_status=$?
sed -e '/^k8s\/overlays\/[^ ]*: [0-9]* passed/d' "$tmp/mc"
passed=$((passed + $(grep -c '^  ok ' "$tmp/mc")))
failed=$((failed + $(grep -c '^  FAIL ' "$tmp/mc")))
if [ "$mc_status" -ne 0 ] && ! grep -q '^  FAIL ' "$tmp/mc"; then
	failed=$((failed + 1))
	echo "  FAIL  manifestcheck exited with status $mc_status"
fi

step "skaffold (offline: no cluster, no Docker daemon, no telemetry)"
# A private HOME: skaffold's global config there turns telemetry and update
# checks off without touching the user's, and no kubeconfig means no
# kube-context, so no profile is activated by one.
mkdir -p "$tmp/home/.skaffold"
printf 'global:\n  collect-metrics: false\n  update-check: false\n  survey:\n    disable-prompt: true\n' >"$tmp/home/.skaffold/config"
skaffold_run() {
	HOME=$tmp/home KUBECONFIG=$tmp/home/no-kubeconfig SKAFFOLD_UPDATE_CHECK=false \
		PATH="$root/bin:$PATH" "$skaffold" "$@"
}
# All profiles at once: each one's patches must still apply.
run "skaffold diagnose -p offline-check,kind,debug (config, every profile, each image's Docker context)" \
	skaffold_run diagnose -p offline-check,kind,debug
if skaffold_run render --offline=true --digest-source=none >"$tmp/skaffold.yaml" 2>"$tmp/out"; then
	ok "skaffold render --offline=true --digest-source=none: $(grep -c '^kind:' "$tmp/skaffold.yaml") resources"
else
	fail "skaffold render --offline=true --digest-source=none" "$tmp/out"
fi

step "unit tests of hack/k8s"
run "go test ./... in hack/k8s" bash -c 'cd hack/k8s && GOWORK=off go test -count=1 ./...'

finish
