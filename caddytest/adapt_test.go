package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"
)

// TestExamples keeps the examples true: each Caddyfile adapts to exactly
// its JSON twin, and every example, Caddyfile or JSON, loads (provisions and
// validates) with the modules of this repository.
func TestExamples(t *testing.T) {
	// The examples take their secrets from the environment, as they should.
	for name, value := range exampleEnv {
		t.Setenv(name, value)
	}
	// Examples name the files they use (an operator's schema) from the
	// repository root, where their comments say to run Caddy.
	t.Chdir("..")
	files, err := filepath.Glob("examples/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range files {
		if info, err := os.Stat(file); err != nil || info.IsDir() {
			continue // files the examples use, such as examples/schemas
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg := src
			if strings.HasSuffix(file, ".Caddyfile") {
				twin := strings.TrimSuffix(file, ".Caddyfile") + ".json"
				want, err := os.ReadFile(twin)
				if err != nil {
					t.Fatalf("every Caddyfile example needs a JSON twin: %v", err)
				}
				if !caddytest.CompareAdapt(t, file, string(src), "caddyfile", strings.TrimSpace(string(want))) {
					t.Fatalf("%s does not adapt to %s", file, twin)
				}
				var warnings []caddyconfig.Warning
				if cfg, warnings, err = caddyconfig.GetAdapter("caddyfile").Adapt(src, map[string]any{"filename": file}); err != nil {
					t.Fatal(err)
				}
				if len(warnings) > 0 {
					t.Errorf("adapting warns: %v", warnings)
				}
			}
			// Examples get copied: one that turns the admin API off turns off
			// reloads and /metrics for whoever copies it, and a Host header
			// set to the upstream's is what Caddy already does for HTTPS
			// upstreams, and warns about.
			var shape struct {
				Admin *struct{ Disabled bool }
			}
			if err := json.Unmarshal(cfg, &shape); err != nil {
				t.Fatal(err)
			}
			if shape.Admin != nil && shape.Admin.Disabled {
				t.Error("example turns the admin API off")
			}
			if strings.Contains(string(cfg), "{http.reverse_proxy.upstream.hostport}") {
				t.Error("example sets the Host header Caddy sets by itself")
			}
			var c caddy.Config
			if err := json.Unmarshal(cfg, &c); err != nil {
				t.Fatal(err)
			}
			if err := caddy.Validate(&c); err != nil {
				t.Fatalf("does not load: %v", err)
			}
		})
	}
}

// exampleEnv gives the examples' secret placeholders values. .ci/run sets
// the same ones before it validates the examples with the binary.
var exampleEnv = map[string]string{
	"BUCKETGATE_SIGNING_SECRET": "example-signing-secret-0123456789abcdef",
	"CI_DEPLOYER_SECRET":        "example-ci-deployer-secret",
	"PLATFORM_ADMIN_SECRET":     "example-platform-admin-secret",
	"B2_KEY_ID":                 "example-key-id",
	"B2_APPLICATION_KEY":        "example-application-key",
	"FLASHBACK_TOKEN":           "example-flashback-token",
}

// TestDirectiveOrder checks that bucketgate needs no order line: it lands
// after encode and before reverse_proxy wherever it is written, including
// when the proxy sits in a handle block.
func TestDirectiveOrder(t *testing.T) {
	caddytest.AssertAdapt(t, `
:8080 {
	reverse_proxy 127.0.0.1:9100
	bucketgate {
		api b2
	}
	encode gzip
}`, "caddyfile", `{
	"apps": {
		"http": {
			"servers": {
				"srv0": {
					"listen": [
						":8080"
					],
					"routes": [
						{
							"handle": [
								{
									"encodings": {
										"gzip": {}
									},
									"handler": "encode",
									"prefer": [
										"gzip"
									]
								},
								{
									"api": "b2",
									"handler": "bucketgate"
								},
								{
									"handler": "reverse_proxy",
									"upstreams": [
										{
											"dial": "127.0.0.1:9100"
										}
									]
								}
							]
						}
					]
				}
			}
		}
	}
}`)

	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(`
:8080 {
	handle /b2api/* {
		reverse_proxy 127.0.0.1:9100
	}
	bucketgate {
		api b2
	}
}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	gate, proxy := strings.Index(string(cfg), `"handler":"bucketgate"`), strings.Index(string(cfg), `"handler":"reverse_proxy"`)
	if gate < 0 || proxy < 0 || gate > proxy {
		t.Errorf("bucketgate does not run before a proxy in a handle block:\n%s", cfg)
	}
}

// TestLoadErrors checks that configurations the handler cannot run are
// refused when they load, with a message that says why.
func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{`{"apps":{"http":{"servers":{"s":{"listen":[":9083"],"routes":[{"handle":[{"handler":"bucketgate","api":"s3"}]}]}}}}}`,
			`api 's3' is not known: write b2 or flashback`},
		{`{"apps":{"http":{"servers":{"s":{"listen":[":9083"],"routes":[{"handle":[{"handler":"bucketgate","api":"b2","schema":"/does/not/exist.json"}]}]}}}}}`,
			`schema /does/not/exist.json: no such file or directory`},
		{`{"apps":{"http":{"servers":{"s":{"listen":[":9083"],"routes":[{"handle":[{"handler":"bucketgate","api":"b2","max_body_size":-1}]}]}}}}}`,
			`max_body_size must be positive`},
	} {
		var c caddy.Config
		if err := json.Unmarshal([]byte(tc.config), &c); err != nil {
			t.Fatal(err)
		}
		err := caddy.Validate(&c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

// TestCaddyfileErrorsNameFileAndLine: mistakes in a Caddyfile are reported
// when it is adapted (caddy adapt, caddy validate), at their file and line,
// saying what to write instead.
func TestCaddyfileErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"api b2\n\t\tmax_bodysize 1KiB", "unrecognized subdirective 'max_bodysize'; did you mean 'max_body_size'?, at site.Caddyfile:4"},
		{"api b2\n\t\tschema /does/not/exist.json", "schema /does/not/exist.json: no such file or directory, at site.Caddyfile:4"},
		{"api b2\n\t\tpolicy owner {\n\t\t\ton update\n\t\t\texpression 'owner' in request.bucketInfo + 1\n\t\t}",
			"policy owner: expression does not compile: column 9: found no matching overload for '@in' applied to '(string, int)', at site.Caddyfile:6"},
		{"api s3", "api 's3' is not known: write b2 or flashback, at site.Caddyfile:3"},
		{"api b2\n\t\tmode gatway", "mode 'gatway' is not known: write passthrough or gateway; did you mean 'gateway'?, at site.Caddyfile:4"},
		{"api b2\n\t\tmax_body_size 1MiB\n\t\tmax_body_size 2MiB", "max_body_size already specified, at site.Caddyfile:5"},
		{"api b2\n\t\tmode gateway\n\t\tkey k1 {env.K1}\n\t\tupstream {\n\t\t\trealm https://api.backblazeb2.com\n\t\t\tkey_id {env.B2_KEY_ID}\n\t\t\tapplication_key {env.B2_APPLICATION_KEY}\n\t\t}",
			"mode gateway is missing signing_secret (such as signing_secret {env.BUCKETGATE_SIGNING_SECRET}), at site.Caddyfile:2"},
	} {
		src := "example.com {\n\tbucketgate {\n\t\t" + tc.body + "\n\t}\n\treverse_proxy 127.0.0.1:1\n}\n"
		_, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(src), map[string]any{"filename": "site.Caddyfile"})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.body, err, tc.want)
		}
	}
}

// TestExamplesKeepQueryTokensOutOfAccessLogs checks that every example, and
// the README, logs its sites' access through a filter that deletes the
// Authorization query parameter: B2 clients authorise downloads with
// ?Authorization=<token>, and Caddy redacts only the header.
func TestExamplesKeepQueryTokensOutOfAccessLogs(t *testing.T) {
	files, err := filepath.Glob("../examples/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Logging struct {
				Logs map[string]struct {
					Encoder struct {
						Format string `json:"format"`
						Fields map[string]struct {
							Filter  string `json:"filter"`
							Actions []struct{ Parameter, Type string }
						} `json:"fields"`
					} `json:"encoder"`
				} `json:"logs"`
			} `json:"logging"`
			Apps struct {
				HTTP struct {
					Servers map[string]struct {
						Logs *struct {
							DefaultLoggerName string              `json:"default_logger_name"`
							LoggerNames       map[string][]string `json:"logger_names"`
						} `json:"logs"`
					} `json:"servers"`
				} `json:"http"`
			} `json:"apps"`
		}
		if err := json.Unmarshal(src, &cfg); err != nil {
			t.Fatal(err)
		}
		for name, srv := range cfg.Apps.HTTP.Servers {
			if srv.Logs == nil {
				t.Errorf("%s: server %s has no access log", file, name)
				continue
			}
			// A site with a host name logs through logger_names, one without
			// through default_logger_name.
			loggers := []string{srv.Logs.DefaultLoggerName}
			if len(srv.Logs.LoggerNames) > 0 {
				loggers = nil
				for _, names := range srv.Logs.LoggerNames {
					loggers = append(loggers, names...)
				}
			}
			for _, logger := range loggers {
				enc := cfg.Logging.Logs[logger].Encoder
				uri := enc.Fields["request>uri"]
				deletes := false
				for _, a := range uri.Actions {
					deletes = deletes || (a.Type == "delete" && a.Parameter == "Authorization")
				}
				if enc.Format != "filter" || uri.Filter != "query" || !deletes {
					t.Errorf("%s: server %s logs request URIs with their Authorization query parameter (logger %q)", file, name, logger)
				}
			}
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "request>uri query {\n\t\t\t\t\tdelete Authorization") {
		t.Error("the README shows no log filter for the Authorization query parameter")
	}
}
