package flashbackemulator

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

const exampleCaddyfile = `flashback_emulator {
	state_file /var/lib/fbemu/state.json
	workspace demo-workspace
	workspace second-workspace third-workspace
	user demo-token {
		name demo-user
		role demo-workspace WRITE
		role second-workspace ADMIN
	}
	user demo-reader-token {
		role demo-workspace READ
	}
	user bare-token
	bucket "Demo bucket" {
		id 11111111-2222-3333-4444-555555555555
		workspace demo-workspace
		storage_type S3
		bucket demo-bucket
		region us-east-1
		endpoint https://s3.us-east-1.amazonaws.com
		key AKIAEXAMPLE
		secret example-secret
		wallet_address GWALLET
		api_key_id 99999999-8888-4777-8666-555555555555
	}
}`

func exampleConfig() Emulator {
	return Emulator{
		StateFile:  "/var/lib/fbemu/state.json",
		Workspaces: []string{"demo-workspace", "second-workspace", "third-workspace"},
		Users: []User{
			{Token: "demo-token", Name: "demo-user", Roles: map[string]string{"demo-workspace": "WRITE", "second-workspace": "ADMIN"}},
			{Token: "demo-reader-token", Roles: map[string]string{"demo-workspace": "READ"}},
			{Token: "bare-token"},
		},
		Buckets: []Bucket{{
			ID: "11111111-2222-3333-4444-555555555555", Name: "Demo bucket", Workspace: "demo-workspace",
			StorageType: "S3", Bucket: "demo-bucket", Region: "us-east-1", Endpoint: "https://s3.us-east-1.amazonaws.com",
			Key: "AKIAEXAMPLE", Secret: "example-secret", WalletAddress: "GWALLET",
			APIKeyID: "99999999-8888-4777-8666-555555555555",
		}},
	}
}

func TestUnmarshalCaddyfile(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		want        Emulator
		wantErr     string
	}{
		{name: "example", input: exampleCaddyfile, want: exampleConfig()},
		{name: "empty", input: `flashback_emulator`, want: Emulator{}},
		{name: "inline argument", input: `flashback_emulator on`, wantErr: "wrong argument count"},
		{name: "unknown subdirective", input: "flashback_emulator {\n\tquota 10\n}", wantErr: "unrecognized subdirective 'quota'"},
		{name: "state_file twice", input: "flashback_emulator {\n\tstate_file a\n\tstate_file b\n}", wantErr: "state_file already specified"},
		{name: "state_file without path", input: "flashback_emulator {\n\tstate_file\n}", wantErr: "state_file takes exactly one argument"},
		{name: "workspace without id", input: "flashback_emulator {\n\tworkspace\n}", wantErr: "wrong argument count"},
		{name: "user without token", input: "flashback_emulator {\n\tuser {\n\t\tname x\n\t}\n}", wantErr: "user takes exactly one argument"},
		{name: "user with two tokens", input: "flashback_emulator {\n\tuser tok-a tok-b\n}", wantErr: "user takes exactly one argument"},
		{name: "name twice", input: "flashback_emulator {\n\tuser t {\n\t\tname a\n\t\tname b\n\t}\n}", wantErr: "name already specified"},
		{name: "role without level", input: "flashback_emulator {\n\tuser t {\n\t\trole ws\n\t}\n}", wantErr: "role takes a workspace and a role"},
		{name: "role twice", input: "flashback_emulator {\n\tuser t {\n\t\trole ws READ\n\t\trole ws WRITE\n\t}\n}", wantErr: "role in workspace 'ws' already specified"},
		{name: "unknown user subdirective", input: "flashback_emulator {\n\tuser t {\n\t\tpassword x\n\t}\n}", wantErr: "unrecognized user subdirective 'password'"},
		{name: "bucket without name", input: "flashback_emulator {\n\tbucket {\n\t\tid x\n\t}\n}", wantErr: "bucket takes exactly one argument"},
		{name: "unknown bucket subdirective", input: "flashback_emulator {\n\tbucket b {\n\t\tmode MIRROR\n\t}\n}", wantErr: "unrecognized bucket subdirective 'mode'"},
		{name: "bucket field twice", input: "flashback_emulator {\n\tbucket b {\n\t\tregion a\n\t\tregion b\n\t}\n}", wantErr: "region already specified"},
		{name: "secret with two values", input: "flashback_emulator {\n\tbucket b {\n\t\tsecret hidden-one hidden-two\n\t}\n}", wantErr: "secret takes exactly one argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Emulator
			err := got.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				for _, secret := range []string{"tok-a", "hidden-one"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error quotes a credential: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestCaddyfileAdapt checks the registration: the directive needs no order
// line, lands before respond, and its JSON decodes back to the same config.
func TestCaddyfileAdapt(t *testing.T) {
	site := ":8080 {\n\trespond \"fallback\"\n\t" + strings.ReplaceAll(exampleCaddyfile, "\n", "\n\t") + "\n}\n"
	out, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(site), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	emu := strings.Index(string(out), `"handler":"flashback_emulator"`)
	respond := strings.Index(string(out), `"handler":"static_response"`)
	if emu < 0 || respond < 0 || emu > respond {
		t.Fatalf("flashback_emulator not ordered before respond: %s", out)
	}

	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []json.RawMessage `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, srv := range cfg.Apps.HTTP.Servers {
		for _, route := range srv.Routes {
			for _, raw := range route.Handle {
				if !strings.Contains(string(raw), `"handler":"flashback_emulator"`) {
					continue
				}
				var got Emulator
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, exampleConfig()) {
					t.Errorf("adapted JSON decodes to %+v", got)
				}
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("no flashback_emulator handler in %s", out)
	}
}
