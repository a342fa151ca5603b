#!/usr/bin/env bash
# Builds the pinned Kubernetes tools into bin/ (git-ignored) from the Go
# module proxy, once, and prints the path of each one asked for:
#
#   hack/k8s/tools.sh kubeconform skaffold kustomize
#
# Each tool is a module under hack/k8s/tools/<tool> whose go.mod and go.sum
# pin every dependency, so a fresh machine needs only Go. A stamp next to the
# binary records the hash of those files; the tool is rebuilt when they
# change. Builds run at the lowest priority: the machine is shared.
#
# "kustomize" prints `kubectl` when kubectl is installed (its kustomize
# v5.5.0 is the version pinned here) and builds kustomize only otherwise.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=$root/bin
mkdir -p "$bin"

declare -A pkg=(
	[kubeconform]=github.com/yannh/kubeconform/cmd/kubeconform
	[skaffold]=github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold
	[kustomize]=sigs.k8s.io/kustomize/kustomize/v5
)
# Without these, the tools print an empty string as their version.
declare -A ldflags=(
	[kubeconform]="-X main.version=v0.7.0"
	[skaffold]="-X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version=v2.16.1"
	[kustomize]="-X sigs.k8s.io/kustomize/api/provenance.version=v5.5.0"
)

ensure() {
	local tool=$1 mod=$root/hack/k8s/tools/$1
	if [ -z "${pkg[$tool]:-}" ]; then
		echo "tools.sh: unknown tool $tool (want: ${!pkg[*]})" >&2
		return 2
	fi
	if [ "$tool" = kustomize ] && command -v kubectl >/dev/null 2>&1; then
		command -v kubectl
		return
	fi
	local want stamp=$bin/.$tool.stamp
	want=$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -d' ' -f1)
	if [ -x "$bin/$tool" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
		echo "$bin/$tool"
		return
	fi
	echo "tools.sh: building $tool from $mod (first run only; skaffold takes minutes)" >&2
	local start=$SECONDS
	(
		cd "$mod"
		GOWORK=off GOFLAGS=-mod=readonly CGO_ENABLED=0 nice -n 19 \
			go build -trimpath -ldflags "-s -w ${ldflags[$tool]}" -o "$bin/$tool.tmp" "${pkg[$tool]}"
	) >&2
	mv "$bin/$tool.tmp" "$bin/$tool"
	echo "$want" >"$stamp"
	echo "tools.sh: built $tool in $((SECONDS - start))s" >&2
	echo "$bin/$tool"
}

if [ $# -eq 0 ]; then
	set -- kubeconform skaffold kustomize
fi
for t in "$@"; do
	ensure "$t"
done
