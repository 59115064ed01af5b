package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/bucketgate/bucketgate/module/dialect"
)

// readBody reads the whole request body, refusing it cheaply when it is
// over the limit: by its declared length before reading anything, and by
// counting otherwise (chunked bodies declare none).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *dialect.Error) {
	if r.ContentLength > limit {
		return nil, bodyTooLarge(limit)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	// A declared length sizes the buffer once (one byte more, so the read
	// that finds the end needs no room); otherwise it grows as io.ReadAll's.
	size := 512
	if r.ContentLength > 0 {
		size = int(r.ContentLength) + 1
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, limit), make([]byte, 0, size))
	_ = r.Body.Close()
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, bodyTooLarge(limit)
		}
		return nil, dialect.NewError(dialect.BadRequest, "request body could not be read")
	}
	return body, nil
}

// readAll is io.ReadAll into buf.
func readAll(rd io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func bodyTooLarge(limit int64) *dialect.Error {
	return dialect.NewError(dialect.TooLarge, fmt.Sprintf("request body is larger than the %d bytes allowed", limit))
}
