#!/usr/bin/env bash
# Builds the pinned binaries of the local cluster from the Go module proxy, once
# per machine, into $CACHE/bin (default ~/.cache/bookstore-cluster; it survives
# `down`), and prints that directory:
#
#   Kubernetes v1.36.3: kube-apiserver, kube-controller-manager, kube-scheduler,
#                       kubelet, kube-proxy, kubectl
#   CNI plugins v1.9.1: bridge, loopback, host-local, portmap
#   CoreDNS v1.15.0, crane v0.20.3 (the local registry), and a pause binary.
#
# Each group is built in a throwaway module under $CACHE/src whose go.mod pins
# the version; a stamp records it so that a change rebuilds. Builds run at the
# lowest priority, one at a time: the machine is shared.
set -euo pipefail

K8S_VERSION=v1.36.3
CNI_VERSION=v1.9.1
COREDNS_VERSION=v1.15.0
CRANE_VERSION=v0.20.3

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${BOOKSTORE_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bookstore-cluster}
bin=$cache/bin
src=$cache/src
mkdir -p "$bin" "$src"
export GOWORK=off CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

log() { echo "local-cluster/build: $*" >&2; }

# build NAME STAMP MODULE_SETUP_FN PKG... : builds PKGs into $bin unless the
# stamp says this exact version is already there.
built() { [ "$(cat "$bin/.$1.stamp" 2>/dev/null)" = "$2" ]; }
mark() { echo "$2" >"$bin/.$1.stamp"; }

kubernetes() {
	local stamp="$K8S_VERSION with kubectl"
	built kubernetes "$stamp" && return
	local mod=$src/kubernetes-$K8S_VERSION gomod
	mkdir -p "$mod"
	# kubernetes' go.mod replaces each staging module with ./staging/src/...;
	# here each one is pinned to its published v0.x twin instead.
	gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
	{
		echo "module example.com/bookstore/local-cluster-kubernetes"
		echo "go 1.26"
		echo "require k8s.io/kubernetes $K8S_VERSION"
		grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/src/' "$gomod" |
			sed -E "s#^\s*(k8s\.io/[a-z0-9-]+) => .*#replace \1 => \1 v0.${K8S_VERSION#v1.}#" |
			grep -v 'k8s.io/sample-cli-plugin' # not on the proxy; nothing needs it
	} >"$mod/go.mod"
	{
		printf '//go:build tools\n\npackage tools\n\nimport (\n'
		for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
			printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"
		done
		printf ')\n'
	} >"$mod/tools.go"
	log "building Kubernetes $K8S_VERSION (about 7 min on a cold cache)"
	(cd "$mod" && go mod tidy >&2 &&
		nice -n 19 go build -trimpath \
			-ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36" \
			-o "$bin/" k8s.io/kubernetes/cmd/{kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,kube-proxy,kubectl} >&2)
	mark kubernetes "$stamp"
}

simple() { # simple NAME MODULE VERSION PKG...
	local name=$1 module=$2 version=$3
	shift 3
	built "$name" "$version" && return
	local mod=$src/$name-$version
	mkdir -p "$mod"
	printf 'module example.com/bookstore/local-cluster-%s\n\ngo 1.26\n\nrequire %s %s\n' "$name" "$module" "$version" >"$mod/go.mod"
	{
		printf '//go:build tools\n\npackage tools\n\nimport (\n'
		for p in "$@"; do printf '\t_ "%s"\n' "$p"; done
		printf ')\n'
	} >"$mod/tools.go"
	log "building $name $version"
	(cd "$mod" && go mod tidy >&2 && nice -n 19 go build -trimpath -ldflags "-s -w" -o "$bin/" "$@" >&2)
	mark "$name" "$version"
}

pause() {
	local sum
	sum=$(sha256sum "$here/pause/main.go" | cut -d' ' -f1)
	built pause "$sum" && return
	(cd "$here/pause" && GOFLAGS='' go build -trimpath -ldflags "-s -w" -o "$bin/pause" .)
	mark pause "$sum"
}

start=$SECONDS
pause
simple crane github.com/google/go-containerregistry "$CRANE_VERSION" github.com/google/go-containerregistry/cmd/crane
simple cni github.com/containernetworking/plugins "$CNI_VERSION" \
	github.com/containernetworking/plugins/plugins/main/bridge \
	github.com/containernetworking/plugins/plugins/main/loopback \
	github.com/containernetworking/plugins/plugins/ipam/host-local \
	github.com/containernetworking/plugins/plugins/meta/portmap
simple coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns
kubernetes
log "binaries ready in $((SECONDS - start))s"
echo "$bin"
