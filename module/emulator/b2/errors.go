package b2emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is a refusal in B2's own terms: it is rendered as
// {"status","code","message"} with the same status on the HTTP response.
type apiError struct {
	status  int
	code    string
	message string
}

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "bad_request", format, args...)
}

func badJSON(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "bad_json", format, args...)
}

func unauthorized(format string, args ...any) *apiError {
	return newError(http.StatusUnauthorized, "unauthorized", format, args...)
}

func badBucketID(id string) *apiError {
	// blazer recognises a missing bucket by matching "Bucket.*does not exist".
	return newError(http.StatusBadRequest, "bad_bucket_id", "Bucket %s does not exist", id)
}

const contentType = "application/json;charset=utf-8"

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"status":500,"code":"internal_error","message":"response could not be encoded"}`)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "max-age=0, no-cache, no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError never adds Retry-After: blazer retries any answer that carries
// one, whatever its status, which would turn a 4xx into a retry loop.
func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}{e.status, e.code, e.message})
}
