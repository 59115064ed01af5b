package dialect

import (
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"

	"github.com/bucketgate/bucketgate/internal/jsonscan"
)

// DecodeObject decodes a request body that must be one JSON object, mapping
// each way a body can fail to the refusal every dialect gives for it.
func DecodeObject(body []byte, lim jsonscan.Limits) (jsonscan.Value, *Error) {
	if len(body) == 0 {
		return jsonscan.Value{}, NewError(BadJSON, "request body is empty; expected a JSON object")
	}
	v, err := jsonscan.Parse(body, lim)
	if err != nil {
		return jsonscan.Value{}, scanError(err)
	}
	if v.Type() != jsonscan.Object {
		return jsonscan.Value{}, NewError(BadJSON, "request body must be a JSON object")
	}
	return v, nil
}

func scanError(err error) *Error {
	var se *jsonscan.Error
	if !errors.As(err, &se) {
		return NewError(BadJSON, "request body is not valid JSON")
	}
	e := &Error{Kind: BadJSON, Message: "request body is not valid JSON: " + se.Error()}
	if se.Kind != jsonscan.Malformed {
		e.Kind = BadRequest
		e.Message = "request body refused: " + se.Error()
	}
	if se.Path != "" {
		e.Fields = []string{se.Path}
	}
	return e
}

// Integer reads v, a number as decoded by jsonscan, as the integer JSON
// Schema takes it to be: any literal with no fractional part, so 11, 11.0,
// 1.1e1 and 110e-1 are all 11, exactly as the schema's "integer" accepted
// them. Reading the literal as a rational keeps it exact beyond float64's
// 53 bits. ok is false for anything else, or an integer beyond int64.
func Integer(v any) (n int64, ok bool) {
	lit, isNum := v.(json.Number)
	if !isNum {
		return 0, false
	}
	if i, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
		return i, true
	}
	// Exponents beyond a few hundred cannot name an int64; refusing them
	// here keeps big.Rat from building a huge number.
	if _, exp, hasExp := strings.Cut(strings.ToLower(string(lit)), "e"); hasExp && len(strings.TrimLeft(exp, "+-0")) > 3 {
		return 0, false
	}
	r, isRat := new(big.Rat).SetString(string(lit))
	if !isRat || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}
