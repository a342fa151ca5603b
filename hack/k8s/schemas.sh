#!/usr/bin/env bash
# make k8s-schemas: regenerates k8s/schemas, the strict JSON schemas that
# make k8s-check validates the manifests against, for exactly the kinds the
# manifests use (add a kind, run this, commit the new file).
#
#   hack/k8s/schemas.sh           # from a kube-apiserver $K8S_VERSION built and started here
#                                 # (etcd from Debian; about 7 minutes the first time)
#   hack/k8s/schemas.sh --module  # from the k8s.io/kubernetes module's swagger.json (seconds)
#
# The default asks a real apiserver for its /openapi/v2: Debian's etcd and a
# kube-apiserver built from the Go module proxy, both on loopback ports, both
# stopped before the script ends. That document declares the allowed values
# of enum fields (Service type, protocol, seccomp type, ...), so kubeconform
# rejects "protocol: tcp". The module's api/openapi-spec/swagger.json is the
# same document as dumped at release time minus those enums (checked for
# v1.36.3: identical otherwise); --module is the quick, looser fallback.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.36.3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export GOFLAGS=${GOFLAGS:--buildvcs=false}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/k8s-schemas.XXXXXX")
pids=()
# Stops what we started, newest first: the apiserver's shutdown waits on
# etcd, so etcd must outlive it. A process that ignores SIGTERM for 15 s is
# killed.
stop() {
	local p=$1 i
	kill "$p" 2>/dev/null || return 0
	for i in $(seq 1 30); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
cleanup() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		stop "${pids[$i]}"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# The apiserver's OpenAPI v2 document, served by one we start: etcd and
# kube-apiserver on loopback ports, a throwaway token, stopped by PID.
openapi_from_apiserver() {
	local out=$1
	if ! command -v etcd >/dev/null; then
		echo "installing Debian's etcd-server" >&2
		# Only the binary: the package would start a system-wide etcd on
		# :2379 where services may be started, so deny that for the install.
		local policy=/usr/sbin/policy-rc.d own_policy=false
		if [ ! -e "$policy" ]; then
			printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=true
		fi
		apt-get update -q >&2
		apt-get install -y -q --no-install-recommends etcd-server >&2
		if $own_policy; then rm -f "$policy"; fi
	fi
	local apiserver=$root/bin/kube-apiserver-$K8S_VERSION
	if [ ! -x "$apiserver" ]; then
		# A module that requires kubernetes itself, with each staging module
		# (replaced by ./staging/src/... in kubernetes' go.mod) pinned to its
		# published v0.x twin.
		local mod=$root/bin/.kube-apiserver-$K8S_VERSION
		mkdir -p "$mod"
		local gomod
		gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
		{
			echo "module example.com/bookstore/kube-apiserver-build"
			echo "go 1.26"
			echo "require k8s.io/kubernetes $K8S_VERSION"
			grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/src/' "$gomod" |
				sed -E "s#^\s*(k8s\.io/[a-z0-9-]+) => .*#replace \1 => \1 v0.${K8S_VERSION#v1.}#" |
				grep -v 'k8s.io/sample-cli-plugin' # not on the proxy; nothing needs it
		} >"$mod/go.mod"
		printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >"$mod/tools.go"
		echo "building kube-apiserver $K8S_VERSION (minutes; once)" >&2
		(cd "$mod" && GOWORK=off GOFLAGS=-mod=mod go mod tidy >&2 &&
			GOWORK=off CGO_ENABLED=0 nice -n 19 go build -trimpath \
				-ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION" \
				-o "$apiserver" k8s.io/kubernetes/cmd/kube-apiserver >&2)
	fi

	local free
	free=$(python3 -c 'import socket
for _ in range(3):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
		echo "23791 23792 26443")
	read -r etcd_client etcd_peer api_port <<<"${free//$'\n'/ }"
	etcd --name schemas --data-dir "$tmp/etcd" \
		--listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
		--listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
		--initial-cluster "schemas=http://127.0.0.1:$etcd_peer" >"$tmp/etcd.log" 2>&1 &
	pids+=($!)
	openssl genrsa -out "$tmp/sa.key" 2048 2>/dev/null
	openssl rsa -in "$tmp/sa.key" -pubout -out "$tmp/sa.pub" 2>/dev/null
	local token
	token=$(openssl rand -hex 16)
	echo "$token,schemas,schemas,system:masters" >"$tmp/tokens.csv"
	"$apiserver" --etcd-servers="http://127.0.0.1:$etcd_client" \
		--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
		--cert-dir="$tmp/certs" --token-auth-file="$tmp/tokens.csv" --authorization-mode=RBAC \
		--service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$tmp/sa.pub" \
		--service-account-signing-key-file="$tmp/sa.key" --service-cluster-ip-range=10.96.0.0/16 \
		>"$tmp/apiserver.log" 2>&1 &
	pids+=($!)
	local code="" i
	for i in $(seq 1 120); do
		code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/readyz" || true)
		[ "$code" = 200 ] && break
		sleep 0.5
	done
	if [ "$code" != 200 ]; then
		echo "kube-apiserver did not become ready; its log:" >&2
		tail -20 "$tmp/apiserver.log" >&2
		return 1
	fi
	curl -sfk -H "Authorization: Bearer $token" "https://127.0.0.1:$api_port/openapi/v2" >"$out"
	echo "dumped /openapi/v2 of kube-apiserver $K8S_VERSION ($(wc -c <"$out") bytes)" >&2
}

openapi=$tmp/swagger.json
if [ "${1:-}" = --module ]; then
	dir=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
	cp "$dir/api/openapi-spec/swagger.json" "$openapi"
	source="Kubernetes $K8S_VERSION api/openapi-spec/swagger.json"
else
	openapi_from_apiserver "$openapi"
	source="kube-apiserver $K8S_VERSION /openapi/v2"
fi

# The kinds in use: every resource file and every overlay's rendering.
kustomize=$(hack/k8s/tools.sh kustomize)
build() {
	if [ "$(basename "$kustomize")" = kubectl ]; then
		"$kustomize" kustomize --load-restrictor=LoadRestrictionsNone "$1"
	else
		"$kustomize" build --load-restrictor=LoadRestrictionsNone "$1"
	fi
}
manifests=()
for dir in k8s/base k8s/overlays/*/; do
	out=$tmp/$(echo "${dir%/}" | tr / _).yaml
	build "${dir%/}" >"$out"
	manifests+=("$out")
done
mapfile -t sources < <(find k8s/base k8s/components -name '*.yaml' ! -name 'kustomization.yaml' ! -path '*/patches/*' | sort)

(cd hack/k8s && GOWORK=off go build -o "$tmp/schemagen" ./cmd/schemagen)
echo "k8s/schemas from $source:"
"$tmp/schemagen" -openapi "$openapi" -source "$source" -out k8s/schemas "${sources[@]}" "${manifests[@]}"
