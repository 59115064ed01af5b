package b2emulator

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

const exampleCaddyfile = `b2_emulator {
	api_url http://127.0.0.1:9100
	state_file /var/lib/b2emu/state.json
	initial_revision 2
	storage_cap 16MiB
	max_file_versions 500
	account demo-account {
		key demo-key-id demo-app-key {
			capabilities all
		}
		key demo-readonly-id demo-readonly-key {
			capabilities listBuckets readBuckets
			capabilities readBucketEncryption
			bucket demo-bucket          # by name or id
			name_prefix photos/
		}
		bucket demo-bucket {
			id 4a48fe8875c6214145260818
			type allPublic
			info owner demo
			info Cache-Control "max-age=60"
			file_lock
		}
		bucket plain-bucket
	}
	account second-account {
		key second-id second-key {
			capabilities listBuckets
		}
	}
}`

func TestUnmarshalCaddyfile(t *testing.T) {
	want := Emulator{
		APIURL:          "http://127.0.0.1:9100",
		StateFile:       "/var/lib/b2emu/state.json",
		InitialRevision: 2,
		StorageCap:      16 << 20,
		MaxFileVersions: 500,
		Accounts: []Account{
			{
				ID: "demo-account",
				Keys: []Key{
					{ID: "demo-key-id", Secret: "demo-app-key", Capabilities: []string{"all"}},
					{ID: "demo-readonly-id", Secret: "demo-readonly-key", Capabilities: []string{"listBuckets", "readBuckets", "readBucketEncryption"}, Bucket: "demo-bucket", NamePrefix: "photos/"},
				},
				Buckets: []SeedBucket{
					{Name: "demo-bucket", ID: "4a48fe8875c6214145260818", Type: "allPublic", Info: map[string]string{"owner": "demo", "Cache-Control": "max-age=60"}, FileLock: true},
					{Name: "plain-bucket"},
				},
			},
			{ID: "second-account", Keys: []Key{{ID: "second-id", Secret: "second-key", Capabilities: []string{"listBuckets"}}}},
		},
	}
	var got Emulator
	if err := got.UnmarshalCaddyfile(caddyfile.NewTestDispenser(exampleCaddyfile)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	// What the parser produces must survive the JSON round trip the
	// Caddyfile adapter puts it through, and pass Validate.
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var back Emulator
	if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, want) {
		t.Fatalf("JSON round trip: %v\n%s", err, raw)
	}
	back.StateFile = ""
	if err := provision(t, &back); err != nil {
		t.Fatalf("the example does not validate: %v", err)
	}
	for _, field := range []string{`"api_url"`, `"state_file"`, `"initial_revision"`, `"storage_cap"`, `"max_file_versions"`, `"accounts"`, `"keys"`, `"secret"`, `"capabilities"`, `"bucket"`, `"name_prefix"`, `"buckets"`, `"type"`, `"info"`, `"file_lock"`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("JSON lacks %s: %s", field, raw)
		}
	}
}

func TestUnmarshalCaddyfileErrors(t *testing.T) {
	for _, tc := range []struct{ name, input, msg string }{
		{"inline argument", `b2_emulator foo`, "wrong argument count"},
		{"unknown subdirective", "b2_emulator {\n bogus\n}", "unrecognized subdirective 'bogus'"},
		{"repeated api_url", "b2_emulator {\n api_url http://a\n api_url http://b\n}", "api_url already specified"},
		{"api_url without value", "b2_emulator {\n api_url\n}", "wrong argument count"},
		{"initial_revision not a number", "b2_emulator {\n initial_revision one\n}", "initial_revision"},
		{"initial_revision zero", "b2_emulator {\n initial_revision 0\n}", "initial_revision"},
		{"storage_cap not a size", "b2_emulator {\n storage_cap lots\n}", "storage_cap must be a positive size such as 64MiB, got 'lots'"},
		{"storage_cap zero", "b2_emulator {\n storage_cap 0\n}", "storage_cap must be a positive size"},
		{"storage_cap twice", "b2_emulator {\n storage_cap 1MiB\n storage_cap 2MiB\n}", "storage_cap already specified"},
		{"max_file_versions zero", "b2_emulator {\n max_file_versions 0\n}", "max_file_versions must be a whole number of at least 1, got '0'"},
		{"max_file_versions not a number", "b2_emulator {\n max_file_versions many\n}", "max_file_versions must be a whole number"},
		{"account without id", "b2_emulator {\n account {\n }\n}", "wrong argument count"},
		{"unknown account subdirective", "b2_emulator {\n account a {\n user x\n }\n}", "unrecognized account subdirective 'user'"},
		{"key with one argument", "b2_emulator {\n account a {\n key only-id\n }\n}", "key takes a key id and a secret"},
		{"key with three arguments", "b2_emulator {\n account a {\n key id secret extra\n }\n}", "key takes a key id and a secret"},
		{"capabilities without names", "b2_emulator {\n account a {\n key id secret {\n capabilities\n }\n }\n}", "wrong argument count"},
		{"unknown key subdirective", "b2_emulator {\n account a {\n key id secret {\n caps all\n }\n }\n}", "unrecognized key subdirective 'caps'"},
		{"bucket without name", "b2_emulator {\n account a {\n bucket\n }\n}", "wrong argument count"},
		{"info with one argument", "b2_emulator {\n account a {\n bucket some-bucket {\n info owner\n }\n }\n}", "info takes a key and a value"},
		{"repeated info key", "b2_emulator {\n account a {\n bucket some-bucket {\n info owner a\n info owner b\n }\n }\n}", "info key 'owner' already specified"},
		{"file_lock with argument", "b2_emulator {\n account a {\n bucket some-bucket {\n file_lock yes\n }\n }\n}", "wrong argument count"},
		{"unknown bucket subdirective", "b2_emulator {\n account a {\n bucket some-bucket {\n lock\n }\n }\n}", "unrecognized bucket subdirective 'lock'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Emulator
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one containing %q", err, tc.msg)
			}
		})
	}
}

// A whole Caddyfile adapts with no order line, and the emulator lands
// before respond in the route.
func TestCaddyfileAdaptsWithoutOrder(t *testing.T) {
	input := `:9100 {
	respond /health "ok"
	b2_emulator {
		account demo-account {
			key demo-key-id demo-app-key {
				capabilities all
			}
		}
	}
}
`
	out, warnings, err := caddyfile.Adapter{ServerType: httpcaddyfile.ServerType{}}.Adapt([]byte(input), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		t.Errorf("warning: %s", w.Message)
	}
	s := string(out)
	emu, respond := strings.Index(s, `"handler":"b2_emulator"`), strings.Index(s, `"handler":"static_response"`)
	if emu < 0 || respond < 0 || emu > respond {
		t.Errorf("want b2_emulator before respond: %s", s)
	}
	if !strings.Contains(s, `"accounts":[{"id":"demo-account","keys":[{"capabilities":["all"],"id":"demo-key-id","secret":"demo-app-key"}]}]`) {
		t.Errorf("accounts not in the adapted JSON: %s", s)
	}
}

func TestValidateConfig(t *testing.T) {
	base := func() *Emulator { return &Emulator{Accounts: testAccounts()} }
	for _, tc := range []struct {
		name   string
		change func(h *Emulator)
		msg    string
	}{
		{"no accounts", func(h *Emulator) { h.Accounts = nil }, "at least one account"},
		{"account without id", func(h *Emulator) { h.Accounts[1].ID = "" }, "id is required"},
		{"duplicate account", func(h *Emulator) { h.Accounts[1].ID = acctOne }, "defined more than once"},
		{"account without keys", func(h *Emulator) { h.Accounts[1].Keys = nil }, "at least one key"},
		{"duplicate key id across accounts", func(h *Emulator) { h.Accounts[1].Keys[0].ID = "master-id" }, `key "master-id": key id used more than once`},
		{"key without id", func(h *Emulator) { h.Accounts[0].Keys[1].ID = "" }, "key 1: id is required"},
		{"key without secret", func(h *Emulator) { h.Accounts[0].Keys[1].Secret = "" }, "secret is required"},
		{"key without capabilities", func(h *Emulator) { h.Accounts[0].Keys[1].Capabilities = nil }, "at least one capability"},
		{"capabilities in one string", func(h *Emulator) { h.Accounts[0].Keys[1].Capabilities = []string{"listBuckets,readBuckets"} }, "list capabilities separately"},
		{"capability with a space", func(h *Emulator) { h.Accounts[0].Keys[1].Capabilities = []string{"listBuckets readBuckets"} }, "single capability name"},
		{"empty capability", func(h *Emulator) { h.Accounts[0].Keys[1].Capabilities = []string{""} }, "single capability name"},
		{"restriction to an unknown bucket", func(h *Emulator) { h.Accounts[0].Keys[2].Bucket = "gamma-bucket" }, `bucket "gamma-bucket" is not`},
		{"name prefix without bucket", func(h *Emulator) { h.Accounts[0].Keys[1].NamePrefix = "x/" }, "name_prefix needs a bucket"},
		{"duplicate bucket name across accounts", func(h *Emulator) { h.Accounts[1].Buckets[0].Name = "Alpha-Bucket" }, "bucket name used more than once"},
		{"bad bucket name", func(h *Emulator) { h.Accounts[0].Buckets[0].Name = "tiny" }, "name must be 6 to 63"},
		{"bad bucket id", func(h *Emulator) { h.Accounts[0].Buckets[0].ID = "ABC" }, "24 lowercase letters or digits"},
		{"duplicate bucket id", func(h *Emulator) { h.Accounts[1].Buckets[0].ID = "4a48fe8875c6214145260818" }, "used more than once"},
		{"bad bucket type", func(h *Emulator) { h.Accounts[0].Buckets[0].Type = "public" }, `type "public"`},
		{"bad info key", func(h *Emulator) { h.Accounts[0].Buckets[0].Info = map[string]string{"b2-x": "y"} }, `info key "b2-x"`},
		{"too much info", func(h *Emulator) {
			h.Accounts[0].Buckets[0].Info = map[string]string{"a": "", "b": "", "c": "", "d": "", "e": "", "f": "", "g": "", "h": "", "i": "", "j": "", "k": ""}
		}, "at most 10"},
		{"negative initial revision", func(h *Emulator) { h.InitialRevision = -1 }, "initial_revision"},
		{"negative storage cap", func(h *Emulator) { h.StorageCap = -1 }, "storage_cap must be a positive number of bytes"},
		{"negative version limit", func(h *Emulator) { h.MaxFileVersions = -1 }, "max_file_versions must be positive"},
		{"api_url with path", func(h *Emulator) { h.APIURL = "http://127.0.0.1:9100/" }, "no path"},
		{"api_url without scheme", func(h *Emulator) { h.APIURL = "127.0.0.1:9100" }, "api_url"},
		{"api_url ftp", func(h *Emulator) { h.APIURL = "ftp://host" }, "http://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := base()
			tc.change(h)
			err := provision(t, h)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want one containing %q", err, tc.msg)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		h := base()
		if err := provision(t, h); err != nil {
			t.Fatal(err)
		}
		if h.StorageCap != 64<<20 || h.MaxFileVersions != 10000 {
			t.Errorf("defaults: storage_cap %d, max_file_versions %d", h.StorageCap, h.MaxFileVersions)
		}
	})
}
