// Package logging sets up the process's structured logger. The level is a
// slog.LevelVar so config reloads can change it live.
package logging

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Config is the [log] section of a service's config.
type Config struct {
	Level  string `mapstructure:"level" hot:"true" validate:"omitempty,oneof=debug info warn error"`
	Format string `mapstructure:"format" validate:"omitempty,oneof=json text"`
}

// Setup installs a JSON (or text) slog default logger tagged with the
// service name and returns the level variable that SetLevel adjusts.
func Setup(service string, cfg Config) *slog.LevelVar {
	lv := new(slog.LevelVar)
	SetLevel(lv, cfg.Level)
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewJSONHandler(os.Stderr, opts)
	if cfg.Format == "text" {
		h = slog.NewTextHandler(os.Stderr, opts)
	}
	slog.SetDefault(slog.New(h).With("service", service))
	return lv
}

// SetLevel sets lv from a config string; an empty string means info.
func SetLevel(lv *slog.LevelVar, level string) {
	l, err := ParseLevel(level)
	if err != nil {
		l = slog.LevelInfo
	}
	lv.Set(l)
}

// ParseLevel parses debug, info, warn or error ("" is info).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("unknown log level %q", s)
}
