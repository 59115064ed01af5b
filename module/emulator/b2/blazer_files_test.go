package b2emulator

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Backblaze/blazer/b2"
)

// blazerBucket serves h over HTTP and opens alpha-bucket with blazer, as
// the master key.
func blazerBucket(t *testing.T, ctx context.Context, h *Emulator) (*httptest.Server, *callLog, *b2.Bucket) {
	t.Helper()
	srv, log := blazerServer(t, h)
	client, err := b2.NewClient(ctx, "master-id", "master-secret", b2.APIBase(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	bucket, err := client.Bucket(ctx, "alpha-bucket")
	if err != nil {
		t.Fatal(err)
	}
	return srv, log, bucket
}

// blazerUpload writes one file through blazer's Writer, which uploads a small
// file with b2_get_upload_url and b2_upload_file.
func blazerUpload(t *testing.T, ctx context.Context, bucket *b2.Bucket, name, content string, attrs *b2.Attrs) {
	t.Helper()
	w := bucket.Object(name).NewWriter(ctx, b2.WithAttrsOption(attrs))
	if _, err := io.Copy(w, strings.NewReader(content)); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
}

func blazerRead(ctx context.Context, o *b2.Object) (string, error) {
	r := o.NewReader(ctx)
	defer r.Close()
	b, err := io.ReadAll(r)
	return string(b), err
}

// blazerList lists the bucket and returns each object's name and state.
func blazerList(t *testing.T, ctx context.Context, bucket *b2.Bucket, opts ...b2.ListOption) []string {
	t.Helper()
	var out []string
	it := bucket.List(ctx, append([]b2.ListOption{b2.ListPageSize(2)}, opts...)...)
	for it.Next() {
		o := it.Object()
		attrs, err := o.Attrs(ctx)
		if err != nil {
			t.Fatalf("attrs of listed %s: %v", o.Name(), err)
		}
		state := map[b2.ObjectState]string{b2.Uploaded: "upload", b2.Hider: "hide", b2.Folder: "folder"}[attrs.Status]
		out = append(out, state+" "+o.Name())
	}
	if err := it.Err(); err != nil {
		t.Fatalf("list: %v", err)
	}
	return out
}

// The whole life of files, through blazer: upload, list (with and without
// a delimiter, across pages), read (whole, by range, by id), hide, delete,
// and the bucket refusing to go while it holds a version.
func TestBlazerFiles(t *testing.T) {
	h := newEmulator(t)
	ctx := context.Background()
	srv, log, bucket := blazerBucket(t, ctx, h)
	files := []struct{ name, content string }{
		{"notes/hello world.txt", "hello, world\n"},
		{"notes/a+b=c.txt", "plus"},
		{"notes/sub/deep.bin", "\x00\x01\x02\xff"},
		{"top.txt", "on top"},
		{"自由.txt", "unicode"},
	}
	modified := time.UnixMilli(1637248673875)
	for _, f := range files {
		blazerUpload(t, ctx, bucket, f.name, f.content, &b2.Attrs{ContentType: "text/plain", LastModified: modified, Info: map[string]string{"color": "blue green"}})
	}

	want := []string{"upload notes/a+b=c.txt", "upload notes/hello world.txt", "upload notes/sub/deep.bin", "upload top.txt", "upload 自由.txt"}
	if got := blazerList(t, ctx, bucket); !slices.Equal(got, want) {
		t.Errorf("list:\n got %q\nwant %q", got, want)
	}
	if got, want := blazerList(t, ctx, bucket, b2.ListPrefix("notes/"), b2.ListDelimiter("/")), []string{"upload notes/a+b=c.txt", "upload notes/hello world.txt", "folder notes/sub/"}; !slices.Equal(got, want) {
		t.Errorf("list notes/ by folder:\n got %q\nwant %q", got, want)
	}

	for _, f := range files {
		o := bucket.Object(f.name)
		got, err := blazerRead(ctx, o)
		if err != nil || got != f.content {
			t.Errorf("read %s: %q, %v; want %q", f.name, got, err, f.content)
		}
		attrs, err := o.Attrs(ctx)
		if err != nil {
			t.Fatalf("attrs %s: %v", f.name, err)
		}
		sum := sha1.Sum([]byte(f.content))
		if attrs.SHA1 != hex.EncodeToString(sum[:]) || attrs.Size != int64(len(f.content)) || attrs.ContentType != "text/plain" ||
			!attrs.LastModified.Equal(modified) || attrs.Info["color"] != "blue green" || attrs.Status != b2.Uploaded {
			t.Errorf("attrs %s: %+v", f.name, attrs)
		}
	}
	r := bucket.Object("notes/hello world.txt").NewRangeReader(ctx, 7, 5)
	part, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(part) != "world" {
		t.Errorf("range read: %q, %v", part, err)
	}

	// blazer has no b2_download_file_by_id; the id it reports is the one B2
	// clients that have it use.
	o := bucket.Object("top.txt")
	if _, err := o.Attrs(ctx); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/b2api/v3/b2_download_file_by_id?fileId="+url.QueryEscape(o.ID()), nil)
	req.Header.Set("Authorization", login(t, h, "master-id", "master-secret"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "on top" || resp.Header.Get("X-Bz-File-Id") != o.ID() {
		t.Errorf("download by id: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	// A signed URL from b2_get_download_authorization, read with no other
	// credentials.
	signed, err := bucket.Object("notes/hello world.txt").AuthURL(ctx, time.Minute, "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(signed.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "hello, world\n" {
		t.Errorf("signed URL %s: %d %q", signed, resp.StatusCode, body)
	}

	// Hiding: the name is gone from the list and from downloads by name,
	// its versions are still there.
	if err := bucket.Object("top.txt").Hide(ctx); err != nil {
		t.Fatalf("hide: %v", err)
	}
	if _, err := blazerRead(ctx, bucket.Object("top.txt")); !b2.IsNotExist(err) {
		t.Errorf("read of a hidden file: %v, want not found", err)
	}
	if got := blazerList(t, ctx, bucket, b2.ListPrefix("top")); len(got) != 0 {
		t.Errorf("hidden file listed: %q", got)
	}
	if got, want := blazerList(t, ctx, bucket, b2.ListPrefix("top"), b2.ListHidden()), []string{"hide top.txt", "upload top.txt"}; !slices.Equal(got, want) {
		t.Errorf("versions of top.txt: %q, want %q", got, want)
	}

	// A bucket is deleted only once it holds no version of any file.
	if err := bucket.Delete(ctx); err == nil || !strings.Contains(err.Error(), "Cannot delete a bucket that holds file versions") {
		t.Errorf("deleting a bucket with files: %v", err)
	}
	it := bucket.List(ctx, b2.ListHidden())
	for it.Next() {
		if err := it.Object().Delete(ctx); err != nil {
			t.Errorf("delete %s: %v", it.Object().Name(), err)
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if got := blazerList(t, ctx, bucket, b2.ListHidden()); len(got) != 0 {
		t.Errorf("left after deleting every version: %q", got)
	}
	if err := bucket.Delete(ctx); err != nil {
		t.Errorf("deleting the emptied bucket: %v", err)
	}

	counts := make(map[string]int)
	for _, c := range log.all() {
		counts[c.name]++
	}
	for _, call := range []string{"b2_get_upload_url", "b2_list_file_names", "b2_list_file_versions", "b2_get_file_info", "b2_hide_file", "b2_delete_file_version", "b2_get_download_authorization"} {
		if counts[call] == 0 {
			t.Errorf("blazer never called %s: %v", call, counts)
		}
	}
}

// Uploads past storage_cap are refused the way B2 refuses one past the
// account's storage cap, and blazer gives up rather than retrying; deleting
// frees the space.
func TestBlazerStorageCap(t *testing.T) {
	h := newEmulator(t, func(h *Emulator) { h.StorageCap = 10 })
	ctx := context.Background()
	_, _, bucket := blazerBucket(t, ctx, h)
	blazerUpload(t, ctx, bucket, "six", "123456", &b2.Attrs{})
	w := bucket.Object("five").NewWriter(ctx)
	_, _ = io.WriteString(w, "12345")
	err := w.Close()
	if err == nil || !strings.Contains(err.Error(), "storage cap exceeded") {
		t.Fatalf("upload past the cap: %v", err)
	}
	if err := bucket.Object("six").Delete(ctx); err != nil {
		t.Fatal(err)
	}
	blazerUpload(t, ctx, bucket, "ten", "1234567890", &b2.Attrs{})
	var used int
	for _, m := range listAll(t, h, "alpha-bucket") {
		used += int(m["contentLength"].(float64))
	}
	if used != 10 {
		t.Errorf("bucket holds %d bytes, want 10", used)
	}
}

// listAll lists every version of a bucket with the raw API.
func listAll(t *testing.T, h *Emulator, bucket string) []map[string]any {
	t.Helper()
	rec := post(h, login(t, h, "master-id", "master-secret"), "/b2api/v2/b2_list_file_versions", `{"bucketId":"`+bucketID(t, h, bucket)+`","maxFileCount":1000}`)
	var out []map[string]any
	for _, f := range wantOK(t, rec)["files"].([]any) {
		out = append(out, f.(map[string]any))
	}
	return out
}
