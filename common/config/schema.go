package config

import (
	"reflect"
	"slices"
	"strings"
)

// The schema follows mapstructure's view of a struct, since that is what
// decodes the file: the key is the tag name or else the field name, "-" is
// skipped, ",squash" lifts a struct's fields into its parent and ",remain"
// collects whatever keys are left.

// field is one struct field as the file sees it.
type field struct {
	sf    reflect.StructField
	index []int  // for FieldByIndex, through squashed structs
	key   string // one path segment, lower case like viper's keys
	hot   bool
}

// fieldsOf lists t's config fields and whether t has a ",remain" field,
// which lets any key into t.
func fieldsOf(t reflect.Type) (fs []field, remain bool) {
	remain = collectFields(t, nil, false, &fs)
	return fs, remain
}

func collectFields(t reflect.Type, index []int, hot bool, out *[]field) (remain bool) {
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("mapstructure"), ",")
		optList := strings.Split(opts, ",")
		squash := slices.Contains(optList, "squash") && sf.Type.Kind() == reflect.Struct
		// The exported fields of an unexported embedded struct are still
		// settable, so mapstructure fills them when it is squashed.
		if name == "-" || !sf.IsExported() && !(squash && sf.Anonymous) {
			continue
		}
		idx := append(slices.Clip(index), i)
		fhot := hot || sf.Tag.Get("hot") == "true"
		if squash {
			if collectFields(sf.Type, idx, fhot, out) {
				remain = true
			}
			continue
		}
		if slices.Contains(optList, "remain") {
			remain = true
			continue
		}
		if name == "" {
			name = sf.Name
		}
		*out = append(*out, field{sf: sf, index: idx, key: strings.ToLower(name), hot: fhot})
	}
	return remain
}

type kind int

const (
	kindStruct kind = iota // keys continue into its fields
	kindLeaf               // one value
	kindOpen               // map or interface: any key below it is the value's
)

func kindOf(t reflect.Type) kind {
	t = deref(t)
	switch t.Kind() {
	case reflect.Struct:
		// Structs without exported fields (time.Time) are opaque values
		// to mapstructure too.
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				return kindStruct
			}
		}
		return kindLeaf
	case reflect.Map, reflect.Interface:
		return kindOpen
	default:
		return kindLeaf
	}
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// schema is every key path a config struct declares.
type schema struct {
	kinds  map[string]kind
	remain map[string]bool // struct keys ("" for the root) with a ",remain" field
}

func schemaOf(t reflect.Type) schema {
	s := schema{kinds: map[string]kind{}, remain: map[string]bool{}}
	var walk func(t reflect.Type, prefix string, seen []reflect.Type)
	walk = func(t reflect.Type, prefix string, seen []reflect.Type) {
		fs, remain := fieldsOf(t)
		if remain {
			s.remain[prefix] = true
		}
		seen = append(seen, t)
		for _, f := range fs {
			key := join(prefix, f.key)
			k := kindOf(f.sf.Type)
			if k == kindStruct && slices.Contains(seen, deref(f.sf.Type)) {
				// A recursive type has no finite key set; accept
				// whatever the file nests there and let decoding judge.
				k = kindOpen
			}
			s.kinds[key] = k
			if k == kindStruct {
				walk(deref(f.sf.Type), key, seen)
			}
		}
	}
	walk(t, "", nil)
	return s
}

// allows reports whether a key from the file is declared. A key below a
// leaf is allowed here so that decoding reports it as a type error on the
// leaf ("db.dsn" is a string, not a table), which names the real key.
func (s schema) allows(key string) bool {
	if _, ok := s.kinds[key]; ok {
		return true
	}
	if s.remain[""] {
		return true
	}
	for i := range len(key) {
		if key[i] != '.' {
			continue
		}
		p := key[:i]
		if k, ok := s.kinds[p]; (ok && k != kindStruct) || s.remain[p] {
			return true
		}
	}
	return false
}

// envKeys are the keys bound to environment variables: every leaf and
// map. Struct keys are left out because binding one would shadow its
// fields in viper.
func (s schema) envKeys() []string {
	var keys []string
	for k, kd := range s.kinds {
		if kd != kindStruct {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// fileKey turns a validator namespace ("Config.Upstreams[0].Host", Go
// field names) into the key path of the file ("upstreams[0].host"), so that
// errors name what the operator actually wrote.
func fileKey(root reflect.Type, ns string) string {
	rest, ok := strings.CutPrefix(ns, root.Name()+".")
	if !ok {
		_, rest, _ = strings.Cut(ns, ".")
	}
	var segs []string
	t := root
	for rest != "" {
		end := strings.IndexAny(rest, ".[")
		if end < 0 {
			end = len(rest)
		}
		name := rest[:end]
		rest = rest[end:]
		var sf reflect.StructField
		if st := deref(t); st.Kind() == reflect.Struct {
			sf, ok = st.FieldByName(name)
		} else {
			ok = false
		}
		if !ok {
			return strings.ToLower(strings.TrimPrefix(ns, root.Name()+"."))
		}
		t = sf.Type
		seg := ""
		tag, opts, _ := strings.Cut(sf.Tag.Get("mapstructure"), ",")
		if !slices.Contains(strings.Split(opts, ","), "squash") {
			seg = tag
			if seg == "" {
				seg = sf.Name
			}
			seg = strings.ToLower(seg)
		}
		for strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				end = len(rest) - 1
			}
			seg += rest[:end+1]
			rest = rest[end+1:]
			t = deref(t).Elem()
		}
		if seg != "" {
			segs = append(segs, seg)
		}
		rest = strings.TrimPrefix(rest, ".")
	}
	return strings.Join(segs, ".")
}

// diff is what a reload would change.
type diff struct {
	hot     []string // keys whose new value is taken
	restart []string // keys whose new value is ignored until restart
}

// merge sets dst (a struct, addressable) to cur with the hot fields of nw,
// and records which keys differ. Unchanged and non-hot values are shared
// with cur rather than copied: configs are immutable once published.
func merge(dst, cur, nw reflect.Value, prefix string, d *diff) {
	dst.Set(cur)
	fs, _ := fieldsOf(dst.Type())
	for _, f := range fs {
		key := join(prefix, f.key)
		dv, cv, nv := dst.FieldByIndex(f.index), cur.FieldByIndex(f.index), nw.FieldByIndex(f.index)
		switch {
		case f.hot:
			before := len(d.hot)
			d.hot = diffKeys(cv, nv, key, d.hot)
			if len(d.hot) > before {
				dv.Set(nv)
			}
		case kindOf(f.sf.Type) == kindStruct && !isNilPtr(cv) && !isNilPtr(nv):
			if cv.Kind() != reflect.Pointer {
				merge(dv, cv, nv, key, d)
				continue
			}
			before := len(d.hot)
			p := reflect.New(cv.Type().Elem())
			merge(p.Elem(), cv.Elem(), nv.Elem(), key, d)
			// Keep cur's pointer when nothing hot changed below it, so
			// an unchanged config stays pointer-for-pointer the same.
			if len(d.hot) > before {
				dv.Set(p)
			}
		default:
			d.restart = diffKeys(cv, nv, key, d.restart)
		}
	}
}

// diffKeys appends the leaf keys below key where a and b differ, so that
// logs name "log.level" rather than the whole "log" table.
func diffKeys(a, b reflect.Value, key string, out []string) []string {
	if reflect.DeepEqual(a.Interface(), b.Interface()) {
		return out
	}
	if kindOf(a.Type()) != kindStruct || isNilPtr(a) || isNilPtr(b) {
		return append(out, key)
	}
	for a.Kind() == reflect.Pointer {
		a, b = a.Elem(), b.Elem()
	}
	fs, _ := fieldsOf(a.Type())
	n := len(out)
	for _, f := range fs {
		out = diffKeys(a.FieldByIndex(f.index), b.FieldByIndex(f.index), join(key, f.key), out)
	}
	if len(out) == n {
		// The difference is in fields the file cannot set (unexported,
		// ",remain"); still report it so it is not lost.
		out = append(out, key)
	}
	return out
}

func isNilPtr(v reflect.Value) bool {
	return v.Kind() == reflect.Pointer && v.IsNil()
}
