#!/usr/bin/env bash
# Starts a real single-node Kubernetes cluster on this machine, without kind
# (no node image can be pulled here) and without systemd:
#
#   etcd, kube-apiserver, controller-manager, scheduler   on 127.0.0.1
#   kubelet + containerd/runc, kube-proxy (iptables)      node IP 10.244.91.1 on bridge bsknode0
#   pods                                                  10.88.91.0/24 on bridge bskcni0 (CNI bridge)
#   CoreDNS (cluster.local only, no upstream)             10.244.91.1:53
#   an image registry (crane)                             127.0.0.1:35001
#   dockerd for image builds, the Go module cache as a module proxy (127.0.0.1:35002)
#
# Base images are made from this machine's files: local/golang:1.26 (Go +
# busybox), a pause image, and local/mariadb:10.11 from Debian's
# mariadb-server. Nothing is pulled and no traffic leaves the machine.
#
# Everything it starts, changes or creates is recorded under $STATE (default
# /tmp/bookstore-cluster) so that down.sh can undo exactly that. On success it
# writes $STATE/env (KUBECONFIG, DOCKER_HOST, CLUSTER_GATEWAY_URL...).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "up.sh: needs root (bridges, iptables, containers)" >&2
	exit 1
fi
if [ -e "$STATE" ]; then
	echo "up.sh: $STATE exists: a cluster is up (or was not taken down); run hack/local-cluster/down.sh first" >&2
	exit 1
fi

t0=$SECONDS
# Debian packages, installed only when missing; services are not started
# (policy-rc.d), this script starts what it needs itself.
need=()
for p in docker.io containerd runc etcd-server mariadb-server busybox-static iptables python3 openssl; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	own_policy=false
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=true
	fi
	apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2
	if $own_policy; then rm -f /usr/sbin/policy-rc.d; fi
fi
BIN=$("$here/build.sh")
# The cluster's own kubectl (same version), ahead of any other.
export PATH=$BIN:$PATH
log "tools ready ($((SECONDS - t0))s)"

mkdir -p "$STATE"/{pids,logs,etc,run}
echo "$CACHE" >"$STATE/cache"
# What to restore: sysctls, iptables, cgroups that existed before.
for s in "${SYSCTLS[@]}"; do
	v=$(sysctl -n "$s" 2>/dev/null) && printf '%s=%s\n' "$s" "$v" >>"$STATE/sysctls.orig"
done
iptables-save >"$STATE/iptables.orig"
ip6tables-save >"$STATE/ip6tables.orig" 2>/dev/null || true
ls -d /sys/fs/cgroup/*/kubepods* 2>/dev/null >"$STATE/cgroups.orig" || true
ls /run/netns 2>/dev/null >"$STATE/netns.orig" || true

# start NAME CMD...: runs CMD in the background, logs to logs/NAME.log, and
# records its PID for down.sh.
start() {
	local name=$1
	shift
	"$@" >"$STATE/logs/$name.log" 2>&1 &
	echo $! >"$STATE/pids/$name"
}
# wait_for WHAT SECONDS CMD...: polls CMD until it succeeds.
wait_for() {
	local what=$1 limit=$2 t=$SECONDS
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS - t > limit)); then
			log "$what: not ready within ${limit}s; see $STATE/logs"
			return 1
		fi
		sleep 0.3
	done
}

# --- network: the node's bridge and the pods' bridge ----------------------
ip link add "$NODE_BRIDGE" type bridge
echo "$NODE_BRIDGE" >>"$STATE/links"
ip addr add "$NODE_IP/24" dev "$NODE_BRIDGE"
ip link set "$NODE_BRIDGE" up
# Created here (not by the CNI plugin) so that it is known and removed by down.
ip link add "$POD_BRIDGE" type bridge
echo "$POD_BRIDGE" >>"$STATE/links"
ip addr add "$POD_GW/24" dev "$POD_BRIDGE"
ip link set "$POD_BRIDGE" up
sysctl -qw net.ipv4.ip_forward=1
# Pod -> Service IP -> pod on the same bridge: replies must pass conntrack.
sysctl -qw net.bridge.bridge-nf-call-iptables=1
# A Docker daemon elsewhere on the machine may set FORWARD's policy to DROP.
iptables -I FORWARD -i "$POD_BRIDGE" -o "$POD_BRIDGE" -j ACCEPT
iptables -I FORWARD -i "$POD_BRIDGE" -o "$NODE_BRIDGE" -j ACCEPT
iptables -I FORWARD -i "$NODE_BRIDGE" -o "$POD_BRIDGE" -j ACCEPT

# --- image builds: dockerd, base images, registry, module proxy ----------
# The data root is in the cache: BuildKit's module and build caches make the
# next run's image builds fast. No bridge, no iptables: builds use the host
# network to reach the module proxy on loopback.
mkdir -p "$CACHE/docker"
start dockerd dockerd --data-root "$CACHE/docker" --exec-root "$STATE/run/docker" \
	--pidfile "$STATE/run/dockerd.pid" -H "unix://$STATE/docker.sock" \
	--iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
	--containerd-namespace bookstore-cluster --containerd-plugins-namespace bookstore-cluster-plugins
export DOCKER_HOST=unix://$STATE/docker.sock
wait_for dockerd 60 $DOCKER info

# The image builds' `go mod download` asks for every module in a service's
# go.sum, more than building and testing here ever fetched: fill the cache
# the proxy serves with exactly that set first (a no-op on a warm machine).
for svc in account warehouse payment gateway; do
	(cd "$root/$svc" && GOWORK=off go mod download) || { log "go mod download in $svc failed"; exit 1; }
done

mkdir -p "$STATE/registry"
start registry "$BIN/crane" registry serve --address "$REGISTRY" --disk "$STATE/registry"
start goproxy python3 -m http.server "${GOPROXY_ADDR##*:}" --bind "${GOPROXY_ADDR%:*}" \
	--directory "$(go env GOMODCACHE)/cache/download"

"$here/images.sh" "$BIN"
log "docker, registry and base images ready ($((SECONDS - t0))s)"

# --- containerd (the node's runtime) --------------------------------------
mkdir -p "$STATE/containerd" "$STATE/cni/net.d" "$STATE/cni/bin"
cp "$BIN"/{bridge,loopback,host-local,portmap} "$STATE/cni/bin/"
cat >"$STATE/etc/containerd.toml" <<TOML
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
[grpc]
  address = "$STATE/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10-local"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails to start.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$STATE/cni/bin"
    conf_dir = "$STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$REGISTRY"]
    endpoint = ["http://$REGISTRY"]
TOML
cat >"$STATE/cni/net.d/10-bookstore.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "bookstore",
  "plugins": [
    {"type": "bridge", "bridge": "$POD_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$STATE/cni/ipam", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GW"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
start containerd containerd -c "$STATE/etc/containerd.toml"
CTR=(ctr -a "$STATE/containerd.sock" -n k8s.io)
wait_for containerd 30 "${CTR[@]}" version
$DOCKER save registry.k8s.io/pause:3.10-local local/mariadb:10.11 | "${CTR[@]}" images import --all-platforms - >/dev/null
log "containerd ready ($((SECONDS - t0))s)"

# --- control plane -------------------------------------------------------
pki=$STATE/pki
mkdir -p "$pki"
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bookstore-cluster-ca \
	-keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
token=$(openssl rand -hex 16)
echo "$token,admin,admin,system:masters" >"$pki/tokens.csv"
export KUBECONFIG=$STATE/kubeconfig
cat >"$KUBECONFIG" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: bookstore-local
    cluster: {server: "https://127.0.0.1:$API_PORT", insecure-skip-tls-verify: true}
users:
  - name: admin
    user: {token: "$token"}
contexts:
  - name: bookstore-local
    context: {cluster: bookstore-local, user: admin}
current-context: bookstore-local
YAML

start etcd etcd --name bookstore --data-dir "$STATE/etcd" \
	--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
	--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
	--initial-cluster "bookstore=http://127.0.0.1:$ETCD_PEER_PORT"
wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"
start kube-apiserver "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
	--bind-address=127.0.0.1 --advertise-address="$NODE_IP" --secure-port="$API_PORT" --cert-dir="$pki/apiserver" \
	--service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$pki/sa.pub" \
	--service-account-signing-key-file="$pki/sa.key" --token-auth-file="$pki/tokens.csv" \
	--authorization-mode=Node,RBAC --service-cluster-ip-range="$SERVICE_CIDR" \
	--service-node-port-range=30000-32767 --kubelet-preferred-address-types=InternalIP \
	--endpoint-reconciler-type=none
wait_for kube-apiserver 120 kubectl get --raw /readyz
start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$KUBECONFIG" \
	--bind-address=127.0.0.1 --secure-port=37257 --leader-elect=false \
	--service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
	--service-cluster-ip-range="$SERVICE_CIDR" --use-service-account-credentials=false \
	--controllers='*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route'
start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$KUBECONFIG" \
	--bind-address=127.0.0.1 --secure-port=37259 --leader-elect=false
log "control plane ready ($((SECONDS - t0))s)"

# --- node: CoreDNS, kubelet, kube-proxy ------------------------------------
cat >"$STATE/etc/Corefile" <<CORE
.:53 {
    bind $NODE_IP
    errors
    kubernetes cluster.local in-addr.arpa {
        kubeconfig $KUBECONFIG bookstore-local
        pods insecure
    }
    cache 5
}
CORE
start coredns "$BIN/coredns" -conf "$STATE/etc/Corefile"
# Pods resolve through CoreDNS alone; no host resolver leaks in.
printf 'nameserver %s\n' "$NODE_IP" >"$STATE/etc/resolv.conf"
cat >"$STATE/etc/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: $NODE_IP
healthzPort: 10248
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: unix://$STATE/containerd.sock
podLogsDir: $STATE/pod-logs
resolvConf: $STATE/etc/resolv.conf
clusterDNS: [$NODE_IP]
clusterDomain: cluster.local
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
# The pods' ConfigMap volumes follow a changed ConfigMap within seconds.
syncFrequency: 10s
configMapAndSecretChangeDetectionStrategy: Watch
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
serializeImagePulls: false
YAML
start kubelet "$BIN/kubelet" --config="$STATE/etc/kubelet.yaml" --kubeconfig="$KUBECONFIG" \
	--root-dir="$STATE/kubelet" --cert-dir="$STATE/kubelet/pki" --hostname-override="$NODE_NAME" \
	--node-ip="$NODE_IP"
start kube-proxy "$BIN/kube-proxy" --kubeconfig="$KUBECONFIG" --hostname-override="$NODE_NAME" \
	--proxy-mode=iptables --cluster-cidr="$POD_CIDR" --conntrack-max-per-core=0 \
	--nodeport-addresses="$NODE_IP/32" --metrics-bind-address="$NODE_IP:10249" \
	--healthz-bind-address="$NODE_IP:10256"
wait_for node 120 kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
wait_for serviceaccount 60 kubectl get serviceaccount default -n default
# Storage: one hostPath volume, which the database's claim binds to (no
# provisioner on this node). uid 999 is the database's user.
mkdir -p "$STATE/volumes/mysql-0"
chown 999:999 "$STATE/volumes/mysql-0"
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: bookstore-mysql-0}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  claimRef: {namespace: bookstore, name: data-mysql-0}
  hostPath: {path: $STATE/volumes/mysql-0, type: Directory}
YAML

cat >"$STATE/env" <<ENV
export KUBECONFIG=$KUBECONFIG
export PATH=$BIN:\$PATH
export DOCKER_HOST=$DOCKER_HOST
export BOOKSTORE_CLUSTER_REGISTRY=$REGISTRY
export BOOKSTORE_CLUSTER_GOPROXY=http://$GOPROXY_ADDR
export BOOKSTORE_CLUSTER_BIN=$BIN
export CLUSTER_GATEWAY_URL=http://$NODE_IP:$GATEWAY_NODEPORT
ENV
log "cluster up in $((SECONDS - t0))s: source $STATE/env"
