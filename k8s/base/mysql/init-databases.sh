# shellcheck shell=bash
# Creates one database and one user per service. The image's entrypoint
# sources this file (it is not executable) on the first start only, when the
# data directory is empty, with a temporary server that listens on its socket
# alone. docker_process_sql is the entrypoint's function for that server;
# MariaDB's and MySQL's images both have it.
#
# BOOKSTORE_DATABASES names the databases; for each NAME the StatefulSet sets
# NAME_DB_USER and NAME_DB_PASSWORD (upper-cased NAME) from the NAME-db Secret,
# the same Secret the service's DSN is built from.

sql_string() { # quote $1 as an SQL string literal
	local s=${1//\\/\\\\}
	printf "'%s'" "${s//\'/\'\'}"
}

for db in ${BOOKSTORE_DATABASES:?BOOKSTORE_DATABASES is not set}; do
	upper=$(printf '%s' "$db" | tr '[:lower:]' '[:upper:]')
	user_var=${upper}_DB_USER
	password_var=${upper}_DB_PASSWORD
	user=${!user_var:?$user_var is not set}
	password=${!password_var:?$password_var is not set}
	echo "init-databases.sh: database $db, user $user"
	docker_process_sql <<-SQL
		CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		CREATE USER IF NOT EXISTS $(sql_string "$user")@'%' IDENTIFIED BY $(sql_string "$password");
		GRANT ALL PRIVILEGES ON \`$db\`.* TO $(sql_string "$user")@'%';
	SQL
done
