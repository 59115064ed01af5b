package integration

import (
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// rotationConfig is a gateway-mode B2 site in front of the B2 emulator,
// whose keys take their secrets in each form a Caddyfile can give them:
// {env.NAME}, {$NAME}, {file.path}, and a keys file.
const rotationConfig = `{
	admin 127.0.0.1:$rotation-admin
	persist_config off
	default_bind 127.0.0.1
}
http://127.0.0.1:$rotation-b2 {
	b2_emulator {
		api_url http://127.0.0.1:$rotation-b2
		account rotation-account {
			key rotation-key-id rotation-app-key {
				capabilities all
			}
		}
	}
}
http://127.0.0.1:$rotation-gateway {
	bucketgate {
		api b2
		mode gateway
		signing_secret rotation-signing-secret-0123456789abcdef
		key env-key {env.ROTATION_ENV_SECRET} {
			capabilities listBuckets
		}
		key adapt-key {$ROTATION_ADAPT_SECRET} {
			capabilities listBuckets
		}
		key file-key {file.SECRET_FILE} {
			capabilities listBuckets
		}
		keys_file KEYS_FILE
		upstream {
			realm http://127.0.0.1:$rotation-b2
			key_id rotation-key-id
			application_key rotation-app-key
		}
	}
	reverse_proxy {http.bucketgate.upstream}
}
`

// TestSecretRotation shows, with real processes, what a reload re-reads of
// a gateway key's secret in each form, as docs/deployment.md ("Rotating
// secrets") says: the gateway expands secrets once, when a configuration
// loads, with a replacer of the process that loads it.
//
//   - {env.NAME} is the environment of the running process, which a reload
//     does not change: the old secret keeps working until a restart.
//   - {file.path} and the keys file are read at each load, but an
//     unchanged Caddyfile is not loaded again unless the reload is forced.
//   - {$NAME} is the environment of the process that adapts the Caddyfile:
//     `caddy reload`'s own, or, for a Caddyfile posted to /load, the
//     running process's.
func TestSecretRotation(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "file-key.secret")
	keysFile := filepath.Join(dir, "keys.json")
	writeFile := func(path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(secretFile, "file-secret-old\n")
	writeFile(keysFile, `[{"id":"keys-file-key","secret":"keys-file-secret-old","capabilities":["listBuckets"]}]`)
	config := ports(t, strings.NewReplacer("SECRET_FILE", secretFile, "KEYS_FILE", keysFile).Replace(rotationConfig))
	caddyfile := filepath.Join(dir, "Caddyfile")
	writeFile(caddyfile, config)
	admin := ports(t, "127.0.0.1:$rotation-admin")

	// The environment the gateway process starts with.
	t.Setenv("ROTATION_ENV_SECRET", "env-secret-old")
	t.Setenv("ROTATION_ADAPT_SECRET", "adapt-secret-old")
	gateway := startProcess(t, bin, "gateway", "http://"+admin, config)

	// cli runs `bucketgate reload` against the gateway, in an environment
	// of its own: the process's, with env added (the last value of a name
	// wins).
	cli := func(env []string, args ...string) func(t *testing.T) {
		return func(t *testing.T) {
			t.Helper()
			cmd := exec.Command(bin, append([]string{"reload", "--config", caddyfile, "--adapter", "caddyfile", "--address", admin}, args...)...)
			cmd.Env = append(append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir), env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("bucketgate reload: %v\n%s", err, out)
			}
			multiClient.CloseIdleConnections()
		}
	}
	signIn := func(t *testing.T, keyID, secret string) int {
		status, _, _ := multiCall(t, "GET", "http://127.0.0.1:$rotation-gateway/b2api/v3/b2_authorize_account", "",
			"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(keyID+":"+secret)))
		return status
	}
	type key struct{ id, secret string }
	steps := []struct {
		name string
		// change is what the operator changes, reload how they apply it.
		change          func()
		reload          func(t *testing.T)
		signIn, refused []key
		// then checks more, in the state the step leaves.
		then func(t *testing.T)
	}{{
		name:    "at start, each form has its first value",
		reload:  func(*testing.T) {},
		signIn:  []key{{"env-key", "env-secret-old"}, {"adapt-key", "adapt-secret-old"}, {"file-key", "file-secret-old"}, {"keys-file-key", "keys-file-secret-old"}},
		refused: []key{{"env-key", "env-secret-new"}, {"file-key", "file-secret-new"}},
	}, {
		name: "files changed, caddy reload: an unchanged Caddyfile is not loaded again",
		change: func() {
			writeFile(secretFile, "file-secret-new\n")
			writeFile(keysFile, `[{"id":"keys-file-key","secret":"keys-file-secret-new","capabilities":["listBuckets"]}]`)
		},
		reload:  cli(nil),
		signIn:  []key{{"file-key", "file-secret-old"}, {"keys-file-key", "keys-file-secret-old"}},
		refused: []key{{"file-key", "file-secret-new"}, {"keys-file-key", "keys-file-secret-new"}},
	}, {
		name:    "caddy reload --force: {file.} and the keys file are read afresh",
		reload:  cli(nil, "--force"),
		signIn:  []key{{"file-key", "file-secret-new"}, {"keys-file-key", "keys-file-secret-new"}},
		refused: []key{{"file-key", "file-secret-old"}, {"keys-file-key", "keys-file-secret-old"}},
	}, {
		name:    "a new {env.} value for caddy reload --force: the running process keeps its own",
		reload:  cli([]string{"ROTATION_ENV_SECRET=env-secret-new"}, "--force"),
		signIn:  []key{{"env-key", "env-secret-old"}},
		refused: []key{{"env-key", "env-secret-new"}},
	}, {
		name:    "a new {$} value for caddy reload: it adapts the Caddyfile with it",
		reload:  cli([]string{"ROTATION_ADAPT_SECRET=adapt-secret-new"}),
		signIn:  []key{{"adapt-key", "adapt-secret-new"}},
		refused: []key{{"adapt-key", "adapt-secret-old"}},
	}, {
		name: "the Caddyfile posted to /load: the running process adapts it, with its own {$} value",
		reload: func(t *testing.T) {
			status, _, body := multiCall(t, "POST", "http://"+admin+"/load", config,
				"Content-Type", "text/caddyfile", "Cache-Control", "must-revalidate")
			if status != http.StatusOK {
				t.Fatalf("/load: %d %s", status, body)
			}
			multiClient.CloseIdleConnections()
		},
		signIn:  []key{{"adapt-key", "adapt-secret-old"}, {"env-key", "env-secret-old"}},
		refused: []key{{"adapt-key", "adapt-secret-new"}},
		// Why {$NAME} is no place for a secret: the adapted configuration
		// holds it, and the admin API shows it. The other forms stay
		// placeholders.
		then: func(t *testing.T) {
			_, _, shown := multiCall(t, "GET", "http://"+admin+"/config/", "")
			if !strings.Contains(shown, "adapt-secret-old") {
				t.Errorf("/config/ does not show the {$} secret: %s", shown)
			}
			for _, secret := range []string{"env-secret", "file-secret", "keys-file-secret"} {
				if strings.Contains(shown, secret) {
					t.Errorf("/config/ shows a %s", secret)
				}
			}
		},
	}, {
		name: "a restart with the new environment: {env.} has its new value",
		change: func() {
			// The test's t.Setenv above restores it when the test ends.
			_ = os.Setenv("ROTATION_ENV_SECRET", "env-secret-new")
			_ = gateway.cmd.Process.Kill()
			_ = gateway.cmd.Wait()
		},
		reload: func(t *testing.T) {
			gateway = startProcess(t, bin, "gateway after the restart", "http://"+admin, config)
		},
		signIn:  []key{{"env-key", "env-secret-new"}, {"file-key", "file-secret-new"}},
		refused: []key{{"env-key", "env-secret-old"}},
	}}
	for _, step := range steps {
		if t.Failed() {
			break // each step starts where the last one left off
		}
		t.Run(step.name, func(t *testing.T) {
			if step.change != nil {
				step.change()
			}
			step.reload(t)
			for _, k := range step.signIn {
				if status := signIn(t, k.id, k.secret); status != http.StatusOK {
					t.Errorf("%s with %s: %d, want it to sign in", k.id, k.secret, status)
				}
			}
			for _, k := range step.refused {
				if status := signIn(t, k.id, k.secret); status != http.StatusUnauthorized {
					t.Errorf("%s with %s: %d, want 401", k.id, k.secret, status)
				}
			}
			if step.then != nil {
				step.then(t)
			}
		})
	}
}
