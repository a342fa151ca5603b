// Package config loads a service's TOML configuration into a typed struct,
// validates it at start and keeps it up to date while the service runs.
//
// # Source
//
// The file is the one named by CONFIG_PATH (see [Path]). Every key the struct
// declares can be overridden by an environment variable named after the key
// with "." replaced by "_" and upper-cased, with no prefix: db.dsn is
// overridden by DB_DSN. This works for keys absent from the file too, so a
// secret can live only in the environment.
//
// Keys are declared with mapstructure tags and checked with go-playground
// validator tags (`validate:"required"`). A key in the file that the struct
// does not declare is an error rather than being ignored, because a typo
// (db.dnss) would otherwise silently leave the real key at its zero value.
// Every error names the offending key by its path in the file, as
// `config: unknown key "db.dnss"` or `config: key "server.addr": required`.
// If the struct has a method Validate() error it runs after the tags.
//
// # Hot and restart keys
//
// Most settings are consumed once at start: listen addresses, DSNs, pool
// sizes, clients built from them. Changing them in a running process would
// leave it half-configured, so they need a restart. A few settings (log
// level, feature flags, timeouts read per request) are read each time they
// are used and can change live. The struct says which is which: a field
// tagged `hot:"true"` may change live, and tagging a struct field makes its
// whole subtree hot.
//
// [Store.Watch] watches the file, including the symlink swap kubelet does
// when a ConfigMap changes. On a change it reads, decodes and validates the
// new file. An invalid file is logged and the current config is kept. From
// a valid one it builds the next config from the new values of hot fields
// and the current values of all other fields, logs a warning naming each
// restart key whose value changed, swaps the whole struct atomically and
// then calls the [Store.OnChange] subscribers. A reader thus always sees one
// consistent config, and restart keys keep the values the process started
// with, matching the clients that were built from them.
package config
