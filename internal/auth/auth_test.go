package auth

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseRole(t *testing.T) {
	cases := []struct {
		in   string
		want Role
		ok   bool
	}{
		{"READ", RoleRead, true},
		{"WRITE", RoleWrite, true},
		{"ADMIN", RoleAdmin, true},
		{"NONE", RoleNone, false},
		{"read", RoleNone, false},
		{"", RoleNone, false},
		{"OWNER", RoleNone, false},
	}
	for _, c := range cases {
		got, err := ParseRole(c.in)
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("ParseRole(%q) = %v, %v; want %v, ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "READ, WRITE, ADMIN") {
			t.Errorf("ParseRole(%q) error %q does not list the roles", c.in, err)
		}
		if c.ok && got.String() != c.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), c.in)
		}
	}
	if !(RoleNone < RoleRead && RoleRead < RoleWrite && RoleWrite < RoleAdmin) {
		t.Error("roles are not ordered weakest first")
	}
	for r, want := range map[Role]string{RoleNone: "NONE", Role(9): "Role(9)", Role(-1): "Role(-1)"} {
		if r.String() != want {
			t.Errorf("Role(%d).String() = %q, want %q", int(r), r.String(), want)
		}
	}
}

func TestB2Capabilities(t *testing.T) {
	if len(b2Capabilities[:]) != 30 {
		t.Fatalf("%d capabilities, want 26 from b2sdk + 4", len(b2Capabilities[:]))
	}
	if len(slices.Compact(slices.Sorted(slices.Values(b2Capabilities[:])))) != 30 {
		t.Error("duplicate capability names")
	}
	for _, c := range []string{"listKeys", "writeBuckets", "writeBucketNotifications", "bypassGovernance",
		"readBucketLifecycleRules", "writeBucketLifecycleRules", "readBucketLogging", "writeBucketLogging"} {
		if !slices.Contains(b2Capabilities[:], c) {
			t.Errorf("%s missing", c)
		}
	}
}

func TestExpandCapabilities(t *testing.T) {
	all := slices.Sorted(slices.Values(b2Capabilities[:]))
	cases := []struct {
		in      []string
		want    []string
		unknown []string
	}{
		{in: nil, want: nil},
		{in: []string{"writeBuckets", "listBuckets", "writeBuckets"}, want: []string{"listBuckets", "writeBuckets"}},
		{in: []string{"all"}, want: all},
		{in: []string{"readFiles", "all"}, want: all},
		{in: []string{"writebuckets", "listBuckets", "All"}, unknown: []string{`"writebuckets"`, `"All"`}},
	}
	for _, c := range cases {
		got, err := ExpandCapabilities(c.in)
		if c.unknown != nil {
			if err == nil {
				t.Errorf("%q: no error", c.in)
				continue
			}
			for _, u := range append(c.unknown, "all", "writeBuckets", "writeBucketLogging") {
				if !strings.Contains(err.Error(), u) {
					t.Errorf("%q: error %q does not name %s", c.in, err, u)
				}
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// reachableText returns every string and byte sequence reachable from v,
// following pointers, interfaces, maps and unexported fields, so tests can
// check that no secret is held in clear anywhere inside a value.
func reachableText(v any) []string {
	var out []string
	type visit struct {
		p uintptr
		t reflect.Type
	}
	seen := map[visit]bool{}
	var walk func(reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			out = append(out, v.String())
		case reflect.Pointer:
			if v.IsNil() || seen[visit{v.Pointer(), v.Type()}] {
				return
			}
			seen[visit{v.Pointer(), v.Type()}] = true
			walk(v.Elem())
		case reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Array, reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				b := make([]byte, v.Len())
				for i := range b {
					b[i] = byte(v.Index(i).Uint())
				}
				out = append(out, string(b))
				return
			}
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(it.Key())
				walk(it.Value())
			}
		}
	}
	walk(reflect.ValueOf(v))
	return out
}

// holds reports whether s occurs in anything reachable from v.
func holds(v any, s string) bool {
	return slices.ContainsFunc(reachableText(v), func(text string) bool { return strings.Contains(text, s) })
}
