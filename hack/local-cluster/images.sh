#!/usr/bin/env bash
# Makes the base images that cannot be pulled here, from this machine's own
# files, in the Docker daemon of $DOCKER_HOST (skipped when already there):
#
#   local/golang:1.26                  busybox + /usr/local/go + CA bundle (Dockerfile.base's GO_IMAGE)
#   registry.k8s.io/pause:3.10-local   the pod sandbox (pause/main.go)
#   local/mariadb:10.11                Debian's mariadb-server + mariadb-entrypoint.sh, speaking the
#                                      official image's environment (MARIADB_ROOT_PASSWORD,
#                                      /docker-entrypoint-initdb.d/*.sh with docker_process_sql)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BIN=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have() { [ "$($DOCKER image inspect -f '{{index .Config.Labels "bookstore.input"}}' "$1" 2>/dev/null)" = "$2" ]; }

# Go image: keyed by the Go version.
want=$(go version)
if ! have local/golang:1.26 "$want"; then
	log "image local/golang:1.26"
	g=$work/golang
	mkdir -p "$g/bin" "$g/tmp" "$g/etc/ssl/certs" "$g/usr/local"
	cp /bin/busybox "$g/bin/" && ln -s busybox "$g/bin/sh"
	cp /etc/ssl/certs/ca-certificates.crt "$g/etc/ssl/certs/"
	chmod 1777 "$g/tmp"
	cp -a "$(go env GOROOT)" "$g/usr/local/go"
	tar -C "$g" -cf - . | $DOCKER import --change 'ENV PATH=/usr/local/go/bin:/bin' \
		--change "LABEL bookstore.input=\"$want\"" - local/golang:1.26 >/dev/null
fi

want=$(sha256sum "$BIN/pause" | cut -d' ' -f1)
if ! have registry.k8s.io/pause:3.10-local "$want"; then
	log "image registry.k8s.io/pause:3.10-local"
	p=$work/pause
	mkdir -p "$p"
	cp "$BIN/pause" "$p/pause"
	tar -C "$p" -cf - . | $DOCKER import --change 'ENTRYPOINT ["/pause"]' --change 'USER 65535:65535' \
		--change "LABEL bookstore.input=$want" - registry.k8s.io/pause:3.10-local >/dev/null
fi

# MariaDB: every file of Debian's server and client packages, the shared
# libraries they link, bash (the init scripts are bash) and busybox.
want=$(dpkg-query -W -f='${Version}' mariadb-server)-$(sha256sum "$here/mariadb-entrypoint.sh" | cut -d' ' -f1)
if ! have local/mariadb:10.11 "$want"; then
	log "image local/mariadb:10.11"
	m=$work/mariadb
	mkdir -p "$m"/{bin,tmp,etc,var/lib/mysql,run/mysqld,docker-entrypoint-initdb.d,usr/local/bin}
	chmod 1777 "$m/tmp"
	files=$(dpkg -L mariadb-server-core mariadb-client-core mariadb-server mariadb-client mariadb-common 2>/dev/null |
		while read -r f; do [ -f "$f" ] && echo "$f"; done)
	files+=$'\n'/bin/bash
	libs=$(for f in $files; do ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true; done | sort -u)
	# shellcheck disable=SC2086 # one path per word
	printf '%s\n' $files $libs | sort -u | tar -C / -chf - -T - 2>/dev/null | tar -C "$m" -xf -
	# /lib and friends are symlinks into /usr on Debian.
	for l in lib lib64 sbin; do [ -L /$l ] && [ ! -e "$m/$l" ] && ln -s "$(readlink /$l)" "$m/$l"; done
	cp /bin/busybox "$m/bin/busybox"
	for a in $("$m/bin/busybox" --list); do
		[ -e "$m/bin/$a" ] || [ -e "$m/usr/bin/$a" ] || ln -s busybox "$m/bin/$a"
	done
	ln -sf bash "$m/bin/sh"
	printf 'root:x:0:0:root:/root:/bin/sh\nmysql:x:999:999:MariaDB:/var/lib/mysql:/bin/false\n' >"$m/etc/passwd"
	printf 'root:x:0:\nmysql:x:999:\n' >"$m/etc/group"
	cp "$here/mariadb-entrypoint.sh" "$m/usr/local/bin/docker-entrypoint.sh"
	chmod 755 "$m/usr/local/bin/docker-entrypoint.sh"
	chown -R 999:999 "$m/var/lib/mysql" "$m/run/mysqld"
	tar -C "$m" -cf - . | $DOCKER import \
		--change 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' --change 'USER 999:999' \
		--change 'EXPOSE 3306' --change "LABEL bookstore.input=\"$want\"" - local/mariadb:10.11 >/dev/null
fi
