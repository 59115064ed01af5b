package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// seedBody is the documentation's example b2_update_bucket body.
const seedBody = `{"accountId":"ACCOUNT_ID","bucketId":"4a48fe8875c6214145260818","bucketType":"allPublic","bucketInfo":{},` +
	`"corsRules":[{"corsRuleName":"downloadFromAnyOrigin","allowedOrigins":["https"],"allowedHeaders":["range"],` +
	`"allowedOperations":["b2_download_file_by_id","b2_download_file_by_name"],"exposeHeaders":["x-bz-content-sha1"],"maxAgeSeconds":3600}],` +
	`"defaultRetention":{"mode":"governance","period":{"duration":2,"unit":"years"}},` +
	`"defaultServerSideEncryption":{"mode":"SSE-B2","algorithm":"AES256"},"fileLockEnabled":true,` +
	`"lifecycleRules":[{"daysFromHidingToDeleting":30,"daysFromUploadingToHiding":null,"fileNamePrefix":"backup/"}],` +
	`"replicationConfiguration":{"asReplicationSource":{"replicationRules":[{"destinationBucketId":"3f46fe8276c62b414506021y",` +
	`"fileNamePrefix":"","includeExistingFiles":false,"isEnabled":true,"priority":1,"replicationRuleName":"replication-us-east"}],` +
	`"sourceApplicationKeyId":"00512f95cf4dcf0000000004z"}},"ifRevisionIs":1}`

// BenchmarkUpdate measures the gateway's own work per update (read, scan,
// validate, revision step, capture and answer) with an upstream that costs
// nothing, so the figure is the gateway's overhead on a real request.
func BenchmarkUpdate(b *testing.B) {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	h := &Handler{API: "b2"}
	if err := h.Provision(ctx); err != nil {
		b.Fatal(err)
	}
	h.logger = zap.NewNop()
	answer := []byte(`{"accountId":"ACCOUNT_ID","bucketId":"4a48fe8875c6214145260818","revision":2}`)
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(answer)
		return nil
	})
	b.SetBytes(int64(len(seedBody)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/b2api/v3/b2_update_bucket", strings.NewReader(seedBody))
		r.Header.Set("Authorization", "4_token")
		w := httptest.NewRecorder()
		if err := h.ServeHTTP(w, r, next); err != nil || w.Code != http.StatusOK {
			b.Fatalf("%d %v %s", w.Code, err, w.Body)
		}
	}
}
