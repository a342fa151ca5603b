#!/usr/bin/env bash
# Takes down what up.sh started and puts the machine back as up.sh found it:
# each process it started is stopped by its recorded PID (then the containers'
# processes and shims, found by the cluster's own containerd socket), mounts
# under the state directory are undone, the network namespaces, veths and
# bridges are deleted, the iptables rules and chains that were not there
# before are removed (rules others added meanwhile are left alone), sysctls
# get their old values back, the kubelet's cgroups are removed, and the state
# directory is deleted. The cache (binaries, Docker build cache) stays.
# Safe to run twice, and after a failed up.sh.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ ! -d "$STATE" ]; then
	log "nothing to take down ($STATE does not exist)"
	exit 0
fi
t0=$SECONDS

stop() { # stop NAME [GRACE]: SIGTERM the recorded PID, SIGKILL after GRACE seconds
	local f=$STATE/pids/$1 grace=${2:-10} pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq $((grace * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			log "$1 still running ${grace}s after SIGTERM: SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	fi
	rm -f "$f"
}

# The node first, so nothing restarts the containers.
stop kubelet
stop kube-proxy
sock=$STATE/containerd.sock
if [ -S "$sock" ]; then
	CTR=(ctr -a "$sock" -n k8s.io)
	for id in $("${CTR[@]}" tasks ls -q 2>/dev/null); do
		"${CTR[@]}" tasks kill -s SIGKILL "$id" >/dev/null 2>&1
	done
	sleep 1
	for id in $("${CTR[@]}" tasks ls -q 2>/dev/null); do "${CTR[@]}" tasks delete -f "$id" >/dev/null 2>&1; done
	for id in $("${CTR[@]}" containers ls -q 2>/dev/null); do "${CTR[@]}" containers delete "$id" >/dev/null 2>&1; done
fi
for c in coredns kube-scheduler kube-controller-manager kube-apiserver etcd containerd registry goproxy; do stop "$c"; done
stop dockerd 20
# Processes of the cluster not started by this script directly: container
# shims (re-parented to init) and whatever they still run. They are the ones
# whose command line names this cluster's state directory.
# (grep's own command line matches too; it has exited by the time of kill.)
# shellcheck disable=SC2013 # /proc paths have no spaces
for f in $(grep -laF -- "$STATE/" /proc/[0-9]*/cmdline 2>/dev/null); do
	pid=${f#/proc/}
	pid=${pid%/cmdline}
	[ "$pid" = $$ ] && continue
	cmd=$(tr '\0' ' ' <"$f" 2>/dev/null | cut -c1-80)
	kill -KILL "$pid" 2>/dev/null && log "killed leftover $pid: $cmd"
done
sleep 0.5

# Network namespaces the CRI created for pods (their veths go with them).
for ns in /run/netns/*; do
	[ -e "$ns" ] || continue
	ns=${ns##*/}
	grep -qx "$ns" "$STATE/netns.orig" 2>/dev/null || ip netns delete "$ns" 2>/dev/null
done
# Mounts under the state directory (pod volumes, container roots, the
# dockerd exec root), deepest first.
for _ in 1 2 3; do
	mnts=$(awk -v s="$STATE/" 'index($5, s) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	[ -z "$mnts" ] && break
	for m in $mnts; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
done
# Host ends of pod veths still attached to the pod bridge, then the bridges.
if [ -f "$STATE/links" ]; then
	for l in /sys/class/net/"$POD_BRIDGE"/brif/*; do [ -e "$l" ] && ip link delete "${l##*/}" 2>/dev/null; done
	while read -r l; do ip link delete "$l" 2>/dev/null; done <"$STATE/links"
fi

# iptables: remove what is there now and was not before, by table.
restore_tables() { # restore_tables iptables|ip6tables ORIG
	[ -f "$2" ] || return 0
	"$1-save" | python3 -c '
import sys, subprocess, collections
cmd, orig_file = sys.argv[1], sys.argv[2]
def parse(text):
    tables, t = {}, None
    for line in text.splitlines():
        if line.startswith("*"):
            t = line[1:]; tables[t] = {"chains": {}, "rules": []}
        elif line.startswith(":") and t:
            name, policy = line[1:].split()[:2]; tables[t]["chains"][name] = policy
        elif line.startswith("-A ") and t:
            tables[t]["rules"].append(line[3:])
    return tables
orig, now = parse(open(orig_file).read()), parse(sys.stdin.read())
def run(*a): subprocess.run([cmd, *a], stderr=subprocess.DEVNULL)
for t, cur in now.items():
    o = orig.get(t, {"chains": {}, "rules": []})
    left = collections.Counter(o["rules"])
    for r in cur["rules"]:
        if left[r] > 0:
            left[r] -= 1
        else:
            run("-t", t, "-D", *__import__("shlex").split(r))
    new = [c for c in cur["chains"] if c not in o["chains"]]
    for c in new: run("-t", t, "-F", c)
    for c in new: run("-t", t, "-X", c)
    for c, p in o["chains"].items():
        if p != "-" and cur["chains"].get(c) not in (None, p): run("-t", t, "-P", c, p)
' "$1" "$2"
}
restore_tables iptables "$STATE/iptables.orig"
restore_tables ip6tables "$STATE/ip6tables.orig"

if [ -f "$STATE/sysctls.orig" ]; then
	while IFS= read -r kv; do sysctl -qw "$kv" >/dev/null 2>&1 || log "could not restore $kv"; done <"$STATE/sysctls.orig"
fi
# The kubelet's cgroups (cgroupfs driver), innermost first.
for d in /sys/fs/cgroup/*/kubepods*; do
	[ -d "$d" ] || continue
	grep -qxF "$d" "$STATE/cgroups.orig" 2>/dev/null && continue
	find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || log "cgroup $d still busy"
done

rm -rf "$STATE"
log "cluster down in $((SECONDS - t0))s"
