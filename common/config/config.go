package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// DefaultPath is used when CONFIG_PATH is unset. It is relative so that the
// same binary works from a checkout and from its container's working
// directory.
const DefaultPath = "conf/config.toml"

// Path returns CONFIG_PATH or, if it is unset or empty, [DefaultPath].
func Path() string {
	if p := os.Getenv("CONFIG_PATH"); p != "" {
		return p
	}
	return DefaultPath
}

// ErrUnknownKey is wrapped by the [KeyError] for a key the struct does not
// declare.
var ErrUnknownKey = errors.New("unknown key")

// KeyError is a problem with one key, named by its path in the file
// ("server.addr", "upstreams[0].host"). Load joins one per bad key, so
// errors.As finds the first. A Validate method may return one too, to
// name the key a cross-field rule rejects.
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string {
	if errors.Is(e.Err, ErrUnknownKey) {
		return fmt.Sprintf("config: unknown key %q", e.Key)
	}
	return fmt.Sprintf("config: key %q: %v", e.Key, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// Load reads, decodes and validates the file at path into a new T, with
// environment overrides applied. T must be a struct type.
func Load[T any](path string) (*T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return parse[T](path, data)
}

// parse works on bytes already read so that a reload decodes exactly the
// content it fingerprinted, not whatever the file holds a moment later.
func parse[T any](path string, data []byte) (*T, error) {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("config: %v is not a struct", t)
	}
	sch := schemaOf(t)

	// A fresh instance per load: viper's global state would leak keys
	// between reloads, and its instances are not safe for concurrent use.
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("config: parse %s: %w", path, err)
	}

	// Collect the file's keys before binding the environment: bound keys
	// show up in AllKeys too and would hide the file's keys under a map.
	fileKeys := v.AllKeys()
	slices.Sort(fileKeys)
	var errs []error
	for _, k := range fileKeys {
		if !sch.allows(k) {
			errs = append(errs, &KeyError{Key: k, Err: ErrUnknownKey})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// AutomaticEnv only consults keys viper already knows about, so a key
	// that is missing from the file could never be set from the
	// environment; binding each declared key by name closes that gap.
	for _, k := range sch.envKeys() {
		if err := v.BindEnv(k, envName(k)); err != nil {
			return nil, fmt.Errorf("config: bind env for %q: %w", k, err)
		}
	}

	c := new(T)
	// ErrorUnused backs up the schema check inside values the schema
	// cannot see into, such as arrays of tables.
	opt := func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(durationNeedsUnit, dc.DecodeHook)
	}
	if err := v.Unmarshal(c, opt); err != nil {
		return nil, decodeError(err)
	}
	if err := validate(c); err != nil {
		return nil, err
	}
	return c, nil
}

// durationNeedsUnit rejects numbers for time.Duration fields. Decoded as
// they are, "timeout = 5" would mean 5ns, never what the author meant; the
// string hook viper adds handles "5s".
func durationNeedsUnit(from, to reflect.Type, data any) (any, error) {
	if to == reflect.TypeFor[time.Duration]() && from.Kind() != reflect.String && from != to {
		return nil, fmt.Errorf("expected a duration string with a unit, such as \"5s\", got %v", from)
	}
	return data, nil
}

func envName(key string) string {
	return strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// decodeError turns mapstructure's errors, which name the key but bury it in
// prose, into KeyErrors.
func decodeError(err error) error {
	var errs []error
	var walk func(error)
	walk = func(e error) {
		if de, ok := e.(*mapstructure.DecodeError); ok {
			// ErrorUnused's report is prose listing the keys; split it
			// so it reads like the schema check's.
			if keys, ok := strings.CutPrefix(de.Unwrap().Error(), "has invalid keys: "); ok {
				for _, k := range strings.Split(keys, ", ") {
					errs = append(errs, &KeyError{Key: join(de.Name(), k), Err: ErrUnknownKey})
				}
				return
			}
			errs = append(errs, &KeyError{Key: de.Name(), Err: de.Unwrap()})
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	if len(errs) == 0 {
		return fmt.Errorf("config: decode: %w", err)
	}
	return errors.Join(errs...)
}

var tagValidator = validator.New(validator.WithRequiredStructEnabled())

// validate runs the struct tags, then T's own Validate method, so that
// cross-field rules can assume every field is individually valid.
func validate[T any](c *T) error {
	if err := tagValidator.Struct(c); err != nil {
		var ves validator.ValidationErrors
		if !errors.As(err, &ves) {
			return fmt.Errorf("config: validate: %w", err)
		}
		errs := make([]error, 0, len(ves))
		root := reflect.TypeFor[T]()
		for _, fe := range ves {
			// The tag, not the value: values may be secrets and end up
			// in logs.
			reason := fe.Tag()
			if fe.Param() != "" {
				reason += "=" + fe.Param()
			}
			errs = append(errs, &KeyError{Key: fileKey(root, fe.StructNamespace()), Err: errors.New(reason)})
		}
		return errors.Join(errs...)
	}
	if v, ok := any(c).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			if ke := (*KeyError)(nil); errors.As(err, &ke) {
				return err
			}
			return fmt.Errorf("config: %w", err)
		}
	}
	return nil
}
