package httpapi

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
)

// MaxBody bounds every request body: no endpoint takes more than a few
// kilobytes, and none may be made to buffer or store more.
const MaxBody = 64 << 10

// WriteJSON answers with v as JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// DecodeJSON reads a bounded JSON body into v. Other content types are
// refused, which also keeps cross-site form posts out.
func DecodeJSON(r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return BadRequest("request body must be application/json")
	}
	r.Body = http.MaxBytesReader(nil, r.Body, MaxBody)
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return BadRequest("request body is not valid JSON of the expected shape")
	}
	return nil
}

// ReadParams reads query and form parameters into r.Form, with a bounded
// body; a JSON object body is read too, its string and number members as
// parameters (DIMO's SDKs send either).
func ReadParams(r *http.Request) error {
	r.Body = http.MaxBytesReader(nil, r.Body, MaxBody)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return BadRequest("request body is not a JSON object")
		}
		if err := r.ParseForm(); err != nil {
			return BadRequest("request parameters are malformed")
		}
		for k, v := range body {
			switch v := v.(type) {
			case string:
				r.Form.Set(k, v)
			case float64:
				r.Form.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return BadRequest("request parameters are malformed")
	}
	return nil
}
