package dialect

import (
	"errors"

	"github.com/bucketgate/bucketgate/module/jsonscan"
)

// DecodeObject decodes a request body that must be one JSON object, mapping
// each way a body can fail to the refusal every dialect gives for it.
func DecodeObject(body []byte, lim jsonscan.Limits) (map[string]any, *Error) {
	if len(body) == 0 {
		return nil, Errorf(BadJSON, "request body is empty; expected a JSON object")
	}
	v, err := jsonscan.Decode(body, lim)
	if err != nil {
		return nil, scanError(err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, Errorf(BadJSON, "request body must be a JSON object")
	}
	return obj, nil
}

func scanError(err error) *Error {
	var se *jsonscan.Error
	if !errors.As(err, &se) {
		return Errorf(BadJSON, "request body is not valid JSON")
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
