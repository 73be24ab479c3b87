package receiver

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The media types of OTLP/HTTP.
const (
	mediaProtobuf = "application/x-protobuf"
	mediaJSON     = "application/json"
)

// otlpMedia returns the OTLP media type a Content-Type names, ignoring
// parameters such as charset, and whether it is one.
func otlpMedia(ct string) (string, bool) {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", false
	}
	switch mt {
	case mediaProtobuf, "application/protobuf":
		return mediaProtobuf, true
	case mediaJSON:
		return mediaJSON, true
	}
	return "", false
}

// readBody reads the request body, gunzipped when Content-Encoding says
// gzip, refusing more than maxBody at either stage (413). On error it
// returns the status code to answer.
func readBody(w http.ResponseWriter, req *http.Request, maxBody int64) ([]byte, int, error) {
	if req.ContentLength > maxBody {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the request body is larger than %d bytes", maxBody)
	}
	var body io.Reader = http.MaxBytesReader(w, req.Body, maxBody)
	switch enc := strings.ToLower(strings.TrimSpace(req.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, bodyErrorCode(err), fmt.Errorf("gzip body: %w", err)
		}
		defer zr.Close()
		body = zr
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("Content-Encoding %q is not supported: use gzip or none", enc)
	}
	// A buffer of the announced size, when there is one: io.ReadAll
	// would grow its way there, copying the body a dozen times.
	var buf bytes.Buffer
	if n := req.ContentLength; n > 0 && req.Header.Get("Content-Encoding") == "" {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(body, maxBody+1))
	b := buf.Bytes()
	if err != nil {
		return nil, bodyErrorCode(err), fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > maxBody {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the decompressed request body is larger than %d bytes", maxBody)
	}
	return b, 0, nil
}

// bodyErrorCode is the status for a failed body read: 413 when it went
// over the limit, else 400 (a corrupt gzip stream, a cut connection).
func bodyErrorCode(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// decode decodes an ExportTraceServiceRequest (on the wire the same
// message as TracesData) with pdata, as the Collector does. OTLP/JSON
// takes lowerCamelCase and original field names, hex ids (upper or lower
// case), enums as integers, 64-bit integers as numbers or strings, and
// ignores unknown fields, as the specification asks of receivers. An id
// of the wrong length (or base64 in JSON) fails the whole request, as in
// the Collector. An empty body is an empty request.
func decode(media string, body []byte) (ptrace.Traces, error) {
	if len(body) == 0 {
		return ptrace.NewTraces(), nil
	}
	if media == mediaJSON {
		var u ptrace.JSONUnmarshaler
		td, err := u.UnmarshalTraces(body)
		if err != nil {
			return td, fmt.Errorf("JSON: %w", err)
		}
		if trailingData(body) {
			return td, errors.New("JSON: data after the request object")
		}
		return td, nil
	}
	var u ptrace.ProtoUnmarshaler
	return u.UnmarshalTraces(body)
}

// trailingData reports whether anything but white space follows the first
// JSON object in b, which pdata's decoder reads and stops at. b is known to
// start with a well-formed object: this only finds where it ends. Strings,
// most of an OTLP body, are skipped with IndexByte.
func trailingData(b []byte) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			// The closing quote is the first one not escaped: preceded
			// by an even number of backslashes.
			for {
				j := bytes.IndexByte(b[i+1:], '"')
				if j < 0 {
					return false
				}
				i += 1 + j
				k := i - 1
				for k >= 0 && b[k] == '\\' {
					k--
				}
				if (i-1-k)%2 == 0 {
					break
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return len(bytes.TrimLeft(b[i+1:], " \t\r\n")) > 0
			}
		}
	}
	return false
}
