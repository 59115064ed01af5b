package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testKeys() []Key {
	return []Key{
		{
			ID: "writer", Secret: "writer-secret-1", Name: "CI writer",
			Capabilities: []string{"writeBuckets", "listBuckets"},
			Buckets:      []string{"bucket-b", "bucket-a", "bucket-b"},
			Workspaces:   map[string]string{"ws1": "WRITE", "ws2": "READ"},
			AllowPublic:  true,
		},
		{ID: "admin", Secret: "admin-secret-1", Capabilities: []string{"all"}, Workspaces: map[string]string{"ws1": "ADMIN"}},
		{ID: "old", Secret: "old-secret-1", Capabilities: []string{"listBuckets"}, Expires: "2026-03-01T12:00:00Z"},
	}
}

func mustKeyring(t *testing.T, keys []Key, file string, repl *caddy.Replacer) *Keyring {
	t.Helper()
	kr, err := NewKeyring(keys, file, repl)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestKeyringAuthenticates(t *testing.T) {
	kr := mustKeyring(t, testKeys(), "", nil)
	want := &Principal{
		KeyID: "writer", Name: "CI writer",
		Capabilities: []string{"listBuckets", "writeBuckets"},
		Buckets:      []string{"bucket-a", "bucket-b"},
		Workspaces:   map[string]Role{"ws1": RoleWrite, "ws2": RoleRead},
		AllowPublic:  true,
	}
	for name, get := range map[string]func() (*Principal, error){
		"Basic":  func() (*Principal, error) { return kr.Basic("writer", "writer-secret-1", now) },
		"Bearer": func() (*Principal, error) { return kr.Bearer("writer-secret-1", now) },
		"Lookup": func() (*Principal, error) { return kr.Lookup("writer", now) },
	} {
		p, err := get()
		if err != nil || !reflect.DeepEqual(p, want) {
			t.Errorf("%s: got %+v, %v; want %+v", name, p, err, want)
		}
	}
	if kr.Len() != 3 {
		t.Errorf("Len() = %d, want 3", kr.Len())
	}
}

func TestKeyringRefuses(t *testing.T) {
	kr := mustKeyring(t, testKeys(), "", nil)
	cases := []struct {
		name string
		get  func() (*Principal, error)
		want error
	}{
		{"Basic wrong secret", func() (*Principal, error) { return kr.Basic("writer", "admin-secret-1", now) }, ErrUnknownKey},
		{"Basic unknown id", func() (*Principal, error) { return kr.Basic("nobody", "writer-secret-1", now) }, ErrUnknownKey},
		{"Basic empty", func() (*Principal, error) { return kr.Basic("", "", now) }, ErrUnknownKey},
		{"Basic secret as id", func() (*Principal, error) { return kr.Basic("writer-secret-1", "writer-secret-1", now) }, ErrUnknownKey},
		{"Bearer wrong secret", func() (*Principal, error) { return kr.Bearer("writer-secret-2", now) }, ErrUnknownKey},
		{"Bearer key id", func() (*Principal, error) { return kr.Bearer("writer", now) }, ErrUnknownKey},
		{"Lookup unknown id", func() (*Principal, error) { return kr.Lookup("nobody", now) }, ErrUnknownKey},
		{"Basic expired", func() (*Principal, error) { return kr.Basic("old", "old-secret-1", now) }, ErrKeyExpired},
		{"Basic expired wrong secret", func() (*Principal, error) { return kr.Basic("old", "writer-secret-1", now) }, ErrUnknownKey},
		{"Bearer expired", func() (*Principal, error) { return kr.Bearer("old-secret-1", now.Add(time.Hour)) }, ErrKeyExpired},
		{"Lookup expired", func() (*Principal, error) { return kr.Lookup("old", now) }, ErrKeyExpired},
	}
	for _, c := range cases {
		p, err := c.get()
		// The same value, not merely errors.Is, so the answers cannot differ.
		if p != nil || err != c.want {
			t.Errorf("%s: got %v, %v; want %v", c.name, p, err, c.want)
		}
	}
	if _, err := kr.Basic("old", "old-secret-1", now.Add(-time.Nanosecond)); err != nil {
		t.Errorf("key refused just before it expires: %v", err)
	}
}

func TestKeyringReturnsCopies(t *testing.T) {
	kr := mustKeyring(t, testKeys(), "", nil)
	p, _ := kr.Lookup("writer", now)
	p.Capabilities[0] = "all"
	p.Buckets[0] = "other"
	p.Workspaces["ws3"] = RoleAdmin
	q, _ := kr.Lookup("writer", now)
	if q.Has("all") || q.MayUseBucket("other") || q.Role("ws3") != RoleNone {
		t.Errorf("changing a returned Principal changed the keyring: %+v", q)
	}
}

func TestKeyringExpandsAll(t *testing.T) {
	kr := mustKeyring(t, testKeys(), "", nil)
	p, err := kr.Lookup("admin", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(slices.Values(b2Capabilities[:])); !reflect.DeepEqual(p.Capabilities, want) {
		t.Errorf("capabilities %q, want %q", p.Capabilities, want)
	}
}

func TestPrincipal(t *testing.T) {
	restricted := &Principal{
		Capabilities: []string{"listBuckets", "writeBuckets"},
		Buckets:      []string{"b1", "b2"},
		Workspaces:   map[string]Role{"w1": RoleWrite, "w2": RoleRead},
	}
	open := &Principal{}
	cases := []struct {
		p          *Principal
		capability string
		bucket     string
		workspace  string
		has, may   bool
		role       Role
	}{
		{restricted, "writeBuckets", "b1", "w1", true, true, RoleWrite},
		{restricted, "deleteBuckets", "b3", "w2", false, false, RoleRead},
		{restricted, "all", "", "w3", false, false, RoleNone},
		{open, "listBuckets", "anything", "w1", false, true, RoleNone},
	}
	for i, c := range cases {
		if got := c.p.Has(c.capability); got != c.has {
			t.Errorf("%d: Has(%q) = %v", i, c.capability, got)
		}
		if got := c.p.MayUseBucket(c.bucket); got != c.may {
			t.Errorf("%d: MayUseBucket(%q) = %v", i, c.bucket, got)
		}
		if got := c.p.Role(c.workspace); got != c.role {
			t.Errorf("%d: Role(%q) = %v", i, c.workspace, got)
		}
	}
}

func TestKeyringExpandsPlaceholders(t *testing.T) {
	t.Setenv("BG_TEST_KEY_SECRET", "from-the-environment")
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("from-a-file-1"), 0o600); err != nil {
		t.Fatal(err)
	}
	kr := mustKeyring(t, []Key{
		{ID: "env", Secret: "{env.BG_TEST_KEY_SECRET}"},
		{ID: "file", Secret: "{file." + file + "}"},
	}, "", caddy.NewReplacer())
	for id, secret := range map[string]string{"env": "from-the-environment", "file": "from-a-file-1"} {
		if _, err := kr.Basic(id, secret, now); err != nil {
			t.Errorf("%s: expanded secret refused: %v", id, err)
		}
	}
	if _, err := kr.Basic("env", "{env.BG_TEST_KEY_SECRET}", now); err != ErrUnknownKey {
		t.Errorf("the placeholder itself was accepted as the secret: %v", err)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKeyringFile(t *testing.T) {
	inline := []Key{{ID: "inline", Secret: "inline-secret"}}
	for name, content := range map[string]string{
		"array":  `[{"id":"f1","secret":"file-secret-1","buckets":["b1"]},{"id":"f2","secret":"file-secret-2"}]`,
		"object": ` {"keys":[{"id":"f1","secret":"file-secret-1","buckets":["b1"]},{"id":"f2","secret":"file-secret-2"}]}` + "\n",
	} {
		kr := mustKeyring(t, inline, writeFile(t, content), nil)
		if kr.Len() != 3 {
			t.Errorf("%s: %d keys, want 3", name, kr.Len())
		}
		for id, secret := range map[string]string{"inline": "inline-secret", "f1": "file-secret-1", "f2": "file-secret-2"} {
			if _, err := kr.Basic(id, secret, now); err != nil {
				t.Errorf("%s: %s refused: %v", name, id, err)
			}
		}
		if p, _ := kr.Lookup("f1", now); p == nil || p.MayUseBucket("b2") {
			t.Errorf("%s: f1's bucket list was lost: %+v", name, p)
		}
	}
}

func TestKeyringFileErrors(t *testing.T) {
	const secret = "file-secret-1"
	cases := []struct {
		name, content, want string
	}{
		{"misspelt field", `[{"id":"f1","secret":"file-secret-1","bucket":["b1"]}]`, `unknown field "bucket"`},
		{"unknown top-level field", `{"keys":[],"key":[]}`, `unknown field "key"`},
		{"trailing data", `[] []`, "data after the keys"},
		{"neither shape", `"keys"`, "JSON array of keys or an object"},
		{"empty", ``, "JSON array of keys or an object"},
		{"syntax", "\n[\n{\"id\":\"f1\",\"secret\":\"file-secret-1\"x}]", "line 3, column 36"},
		{"bad type", `[{"id":"f1","secret":12345678}]`, "Key.secret"},
		{"bad key", `[{"id":"f1","secret":"file-secret-1","capabilities":["nope"]}]`, `key "f1" in keys file`},
	}
	for _, c := range cases {
		path := writeFile(t, c.content)
		_, err := NewKeyring(nil, path, nil)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || !strings.Contains(msg, path) {
			t.Errorf("%s: error %q does not say %q and name the file", c.name, msg, c.want)
		}
		if strings.Contains(msg, secret) || strings.Contains(msg, "'x'") {
			t.Errorf("%s: error %q shows a secret", c.name, msg)
		}
	}
	if _, err := NewKeyring(nil, filepath.Join(t.TempDir(), "missing.json"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestNewKeyringErrors(t *testing.T) {
	t.Setenv("BG_TEST_EMPTY", "")
	const secret = "s3cret-value"
	good := func(id string) Key { return Key{ID: id, Secret: secret + "-" + id} }
	with := func(id string, change func(*Key)) Key {
		k := Key{ID: id, Secret: secret}
		change(&k)
		return k
	}
	cases := []struct {
		name string
		keys []Key
		file string
		want []string // in the message, besides "auth:"
	}{
		{"empty secret", []Key{with("k1", func(k *Key) { k.Secret = "" })}, "", []string{`key "k1"`, "empty secret"}},
		{"empty after expansion", []Key{with("k1", func(k *Key) { k.Secret = "{env.BG_TEST_EMPTY}" })}, "", []string{`key "k1"`, "secret is empty", "variable BG_TEST_EMPTY"}},
		{"unexpanded placeholder", []Key{with("k1", func(k *Key) { k.Secret = "{nothing.known}" + secret })}, "", []string{`key "k1"`, "placeholder"}},
		{"short secret", []Key{with("k1", func(k *Key) { k.Secret = "s3cret7" })}, "", []string{`key "k1"`, "shorter than 8"}},
		{"duplicate id", []Key{good("k1"), with("k1", func(k *Key) { k.Secret = secret + "-other" })}, "", []string{`key "k1"`, "used twice"}},
		{"duplicate id across file", []Key{good("k1")}, `[{"id":"k1","secret":"s3cret-value-file"}]`, []string{`key "k1" in keys file`, "used twice"}},
		{"duplicate secret", []Key{with("k1", func(*Key) {}), with("k2", func(*Key) {})}, "", []string{`key "k2"`, `key "k1"`, "same secret"}},
		{"unknown role", []Key{with("k1", func(k *Key) { k.Workspaces = map[string]string{"w1": "OWNER"} })}, "", []string{`key "k1"`, `workspace w1`, `"OWNER"`, "READ, WRITE, ADMIN"}},
		{"unknown capability", []Key{with("k1", func(k *Key) { k.Capabilities = []string{"writeBucket"} })}, "", []string{`key "k1"`, `"writeBucket"`, "writeBuckets", "readFiles"}},
		{"bad expiry", []Key{with("k1", func(k *Key) { k.Expires = "2026-03-01" })}, "", []string{`key "k1"`, "RFC 3339"}},
		{"empty id", []Key{good("k1"), with("", func(*Key) {})}, "", []string{"key #2 in the configuration", "empty id"}},
		{"id with colon", []Key{with("k:1", func(*Key) {})}, "", []string{`key "k:1"`, "':'"}},
		{"id with space", []Key{with("k 1", func(*Key) {})}, "", []string{`key "k 1"`, "space"}},
		{"empty bucket", []Key{with("k1", func(k *Key) { k.Buckets = []string{"b1", ""} })}, "", []string{`key "k1"`, "empty bucket id"}},
		{"empty workspace", []Key{with("k1", func(k *Key) { k.Workspaces = map[string]string{"": "READ"} })}, "", []string{`key "k1"`, "empty workspace id"}},
	}
	for _, c := range cases {
		file := ""
		if c.file != "" {
			file = writeFile(t, c.file)
		}
		_, err := NewKeyring(c.keys, file, caddy.NewReplacer())
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		msg := err.Error()
		for _, w := range append(c.want, "auth: ") {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q does not say %q", c.name, msg, w)
			}
		}
		if strings.Contains(msg, secret) || strings.Contains(msg, "s3cret7") {
			t.Errorf("%s: error %q shows the secret", c.name, msg)
		}
	}
}

func TestNewKeyringNoExpansionWithoutReplacer(t *testing.T) {
	t.Setenv("BG_TEST_KEY_SECRET", "from-the-environment")
	_, err := NewKeyring([]Key{{ID: "k1", Secret: "{env.BG_TEST_KEY_SECRET}"}}, "", nil)
	if err == nil || !strings.Contains(err.Error(), "placeholder") {
		t.Errorf("a placeholder secret with no replacer: %v", err)
	}
}

func TestKeyringKeepsNoSecret(t *testing.T) {
	t.Setenv("BG_TEST_KEY_SECRET", "environment-secret")
	keys := append(testKeys(), Key{ID: "env", Secret: "{env.BG_TEST_KEY_SECRET}", Name: "canary-name"})
	kr := mustKeyring(t, keys, writeFile(t, `[{"id":"f1","secret":"file-secret-1"}]`), caddy.NewReplacer())
	// The walk must see inside the keyring, or finding nothing proves nothing.
	if !holds(kr, "canary-name") {
		t.Fatal("the walk does not reach the keys")
	}
	for _, secret := range []string{"writer-secret-1", "admin-secret-1", "old-secret-1", "environment-secret", "file-secret-1"} {
		if holds(kr, secret) || strings.Contains(fmt.Sprintf("%#v", kr), secret) {
			t.Errorf("the keyring holds %q in clear", secret)
		}
	}
}
