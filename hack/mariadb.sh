#!/usr/bin/env bash
# Throwaway MariaDB server for tests and CI: no systemd, no /etc/mysql config,
# everything (datadir, socket, pid, logs) under one directory.
#
#   hack/mariadb.sh start DIR   init DIR (first time), start the server, wait until it
#                               answers, print `export BOOKSTORE_TEST_MYSQL_DSN=...` on stdout
#   hack/mariadb.sh stop DIR    stop the server whose pid is in DIR/mysqld.pid
#
# Typical use:  eval "$(hack/mariadb.sh start /tmp/mdb)"; ...; hack/mariadb.sh stop /tmp/mdb
# Port: $PORT if set (fails if busy), else 3307 or the next free port up to 3399.
# Only the export line goes to stdout; progress and errors go to stderr so eval stays safe.
set -euo pipefail

log() { echo "mariadb.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
if [ "$cmd" = stop ] && [ ! -d "$2" ]; then
	echo "mariadb.sh: not running ($2 does not exist)" >&2
	exit 0
fi
mkdir -p "$2"
dir=$(cd "$2" && pwd) # absolute: mariadbd resolves relative paths against the datadir

sock=$dir/mysqld.sock
pidfile=$dir/mysqld.pid
errlog=$dir/error.log

# --no-defaults everywhere: a Debian mariadb-server package ships /etc/mysql/my.cnf
# with its own socket/datadir/port, which must not leak into this private server.
admin() { mariadb-admin --no-defaults -uroot --socket="$sock" "$@"; }
client() { mariadb --no-defaults -uroot --socket="$sock" "$@"; }

alive() { # alive PID: is that process still running? (a zombie, i.e. an exited child
	# not yet reaped by this shell, counts as dead; /proc rather than ps: no procps needed)
	[ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] &&
		[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}

pid_from_file() {
	if [ -s "$pidfile" ]; then tr -dc 0-9 <"$pidfile"; fi
}

port_busy() { # something accepts TCP connections on 127.0.0.1:$1
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

print_export() {
	echo "export BOOKSTORE_TEST_MYSQL_DSN='root@tcp(127.0.0.1:$1)/?charset=utf8mb4&parseTime=True&loc=UTC'"
}

start() {
	command -v mariadbd >/dev/null || die "mariadbd not found (apt-get install -y mariadb-server mariadb-client)"
	# The socket path must fit in sun_path (108 bytes).
	[ ${#sock} -lt 100 ] || die "DIR too long for a unix socket path: $sock"

	local pid
	pid=$(pid_from_file)
	if alive "$pid"; then
		if [ -s "$dir/port" ] && admin ping >/dev/null 2>&1; then
			log "already running (pid $pid, port $(cat "$dir/port"))"
			print_export "$(cat "$dir/port")"
			return
		fi
		# A second server on the same datadir would fail on InnoDB's file locks.
		die "mariadbd pid $pid is running on $dir but not answering; run: $0 stop $dir"
	fi
	rm -f "$pidfile" "$sock"

	if [ -n "${PORT:-}" ] && port_busy "$PORT"; then
		die "port $PORT (from PORT) is already in use"
	fi

	local user
	user=$(id -un) # mariadbd refuses to run as root unless told --user=root

	# A marker file, so that an init interrupted half-way is redone rather than trusted.
	if [ ! -e "$dir/.initialized" ]; then
		rm -rf "$dir/data"
		local t0=$SECONDS
		log "initialising $dir/data"
		# normal = root@localhost/127.0.0.1/::1 with an empty password (not unix_socket
		# only), so tests can connect over TCP as root without a password.
		mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" \
			--auth-root-authentication-method=normal --skip-test-db \
			>"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
		touch "$dir/.initialized"
		log "initialised in $((SECONDS - t0))s"
	fi

	local port=3307 tries=0
	if [ -n "${PORT:-}" ]; then
		port=$PORT
	fi

	while :; do
		while [ -z "${PORT:-}" ] && port_busy "$port"; do
			port=$((port + 1))
			[ "$port" -le 3399 ] || die "no free port in 3307-3399"
		done
		log "starting mariadbd on 127.0.0.1:$port (log: $errlog)"
		# Durability is pointless for a test server: skip fsyncs and the doublewrite
		# buffer, which makes the per-test CREATE/DROP DATABASE much cheaper.
		# The charset flags matter: without them new tables are latin1.
		# All fds go to files so the caller's $(...) / pipes are not held open.
		mariadbd --no-defaults --user="$user" --datadir="$dir/data" \
			--socket="$sock" --port="$port" --bind-address=127.0.0.1 \
			--pid-file="$pidfile" --log-error="$errlog" --skip-name-resolve \
			--innodb-buffer-pool-size=128M \
			--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
			--innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
			--skip-log-bin --max-connections=500 \
			</dev/null >>"$dir/stdout.log" 2>&1 &
		pid=$!

		local deadline=$((SECONDS + 120))
		until admin ping >/dev/null 2>&1; do
			if ! alive "$pid"; then
				# Lost a race for the port with someone else: try the next one.
				if [ -z "${PORT:-}" ] && [ $tries -lt 5 ] && tail -n 20 "$errlog" | grep -q "Address already in use"; then
					tries=$((tries + 1))
					port=$((port + 1))
					continue 2
				fi
				tail -n 30 "$errlog" >&2 || true
				die "mariadbd exited during startup"
			fi
			if [ $SECONDS -ge $deadline ]; then
				tail -n 30 "$errlog" >&2 || true
				kill "$pid" 2>/dev/null || true
				die "mariadbd did not answer within 120s"
			fi
			sleep 0.2
		done
		break
	done
	echo "$port" >"$dir/port"

	# Tests connect over TCP as root without a password. With --skip-name-resolve a TCP
	# client is matched by IP only, so root@127.0.0.1 must exist (install-db creates it
	# with the 'normal' method; make sure of it for datadirs made otherwise).
	if ! mariadb --no-defaults -uroot -h127.0.0.1 -P"$port" -e 'SELECT 1' >/dev/null 2>&1; then
		log "granting root@127.0.0.1 passwordless TCP access"
		client -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING '';
			ALTER USER 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING '';
			GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
		mariadb --no-defaults -uroot -h127.0.0.1 -P"$port" -e 'SELECT 1' >/dev/null ||
			die "root cannot connect over TCP to 127.0.0.1:$port"
	fi

	log "ready: pid $pid, port $port, $(client -N -e 'SELECT VERSION()')"
	print_export "$port"
}

stop() {
	local pid
	pid=$(pid_from_file)
	if ! alive "$pid"; then
		log "not running (no live pid in $pidfile)"
		rm -f "$pidfile"
		return
	fi
	# Sanity check before signalling: the pid must belong to a mariadbd/mysqld
	# (pid files outlive crashes and pids get reused).
	case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
	mariadbd | mysqld) ;;
	*) die "pid $pid from $pidfile is not a mariadbd; not killing it" ;;
	esac
	log "stopping pid $pid"
	kill -TERM "$pid" # SIGTERM = clean shutdown
	local deadline=$((SECONDS + 60))
	while alive "$pid"; do
		if [ $SECONDS -ge $deadline ]; then
			log "still running after 60s; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	rm -f "$pidfile"
	log "stopped"
}

case $cmd in
start) start ;;
stop) stop ;;
*) usage ;;
esac
