#!/bin/bash
# shellcheck disable=SC1090,SC2119,SC2120 # init scripts are sourced; docker_process_sql takes the official image's optional arguments
# Entrypoint of local/mariadb:10.11 (Debian's MariaDB), doing what the
# official image's does for the bookstore's StatefulSet: on an empty data
# directory, initialise it, run /docker-entrypoint-initdb.d/*.sh (sourced,
# with docker_process_sql) and *.sql against a socket-only server, set the
# root password from MARIADB_ROOT_PASSWORD; then run mariadbd with the
# container's arguments.
set -euo pipefail
DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
[ "${1:-}" = mariadbd ] && shift

docker_process_sql() {
	mariadb --no-defaults --protocol=socket --socket="$SOCKET" -uroot "$@"
}

if [ ! -d "$DATADIR/mysql" ]; then
	: "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is not set}"
	echo "entrypoint: initialising $DATADIR"
	mariadb-install-db --no-defaults --datadir="$DATADIR" --auth-root-authentication-method=normal \
		--skip-test-db --skip-name-resolve >/dev/null
	mariadbd --no-defaults --datadir="$DATADIR" --socket="$SOCKET" --skip-networking "$@" &
	pid=$!
	for _ in $(seq 300); do
		mariadb-admin --no-defaults --socket="$SOCKET" -uroot ping >/dev/null 2>&1 && break
		sleep 0.2
	done
	for f in /docker-entrypoint-initdb.d/*; do
		case $f in
		*.sh) echo "entrypoint: sourcing $f"; source "$f" ;;
		*.sql) echo "entrypoint: running $f"; docker_process_sql <"$f" ;;
		esac
	done
	pw=${MARIADB_ROOT_PASSWORD//\\/\\\\}
	docker_process_sql <<-SQL
		CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '${pw//\'/\'\'}';
		GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
		ALTER USER 'root'@'localhost' IDENTIFIED BY '${pw//\'/\'\'}';
		FLUSH PRIVILEGES;
	SQL
	kill "$pid"
	wait "$pid" || true
	echo "entrypoint: initialised"
fi
exec mariadbd --no-defaults --datadir="$DATADIR" --socket="$SOCKET" --port=3306 --bind-address=0.0.0.0 "$@"
