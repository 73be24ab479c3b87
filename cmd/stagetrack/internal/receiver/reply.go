package receiver

import (
	"net/http"
	"strings"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// writeStatus answers with code and a google.rpc.Status saying msg, as the
// OTLP/HTTP spec asks of every failed request. msg may quote the sender's
// bytes (a decoder's error does): invalid UTF-8 is replaced, as protobuf
// strings must be valid.
func writeStatus(w http.ResponseWriter, media string, code int, msg string) {
	writeMessage(w, media, code, &statuspb.Status{Code: grpcCode(code), Message: strings.ToValidUTF8(msg, "\uFFFD")})
}

// writeResponse answers 200 with an ExportTraceServiceResponse, with a
// partial_success only when spans were refused. (The replies are small and
// made with the protobuf library, which, unlike pdata, leaves an empty
// partial_success out.)
func writeResponse(w http.ResponseWriter, media string, rejected int, msg string) {
	resp := &coltracepb.ExportTraceServiceResponse{}
	if rejected > 0 {
		resp.PartialSuccess = &coltracepb.ExportTracePartialSuccess{RejectedSpans: int64(rejected), ErrorMessage: msg}
	}
	writeMessage(w, media, http.StatusOK, resp)
}

// writeMessage writes m in media with code.
func writeMessage(w http.ResponseWriter, media string, code int, m proto.Message) {
	var (
		b   []byte
		err error
	)
	if media == mediaJSON {
		b, err = protojson.Marshal(m)
	} else {
		b, err = proto.Marshal(m)
	}
	if err != nil { // cannot happen for these messages
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", media)
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// grpcCode is the gRPC code that matches an HTTP status, for the Status
// body.
func grpcCode(code int) int32 {
	switch code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return 3 // INVALID_ARGUMENT
	case http.StatusUnauthorized:
		return 16 // UNAUTHENTICATED
	case http.StatusNotFound:
		return 5 // NOT_FOUND
	case http.StatusMethodNotAllowed:
		return 12 // UNIMPLEMENTED
	case http.StatusServiceUnavailable:
		return 14 // UNAVAILABLE
	}
	return 2 // UNKNOWN
}
