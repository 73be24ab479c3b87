package cli

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/stage-tracker/stage-tracker/internal/otlpconv"
)

// The receiver's bounds, unless a test sets others.
const (
	// otlpMaxBody bounds a request body, as sent and once decompressed:
	// an SDK's batch of 512 spans is far smaller.
	otlpMaxBody = 4 << 20
	// otlpMaxSpans bounds the spans one run accepts from its processes,
	// so that a runaway child cannot grow the run file, and stagetrack's
	// memory, without end.
	otlpMaxSpans = 100_000
	// otlpInFlight bounds the requests decoded at once, and so the memory
	// a burst of large requests takes.
	otlpInFlight = 4
	// otlpShutdownTimeout bounds the wait, once CMD has exited, for the
	// requests still being handled.
	otlpShutdownTimeout = 5 * time.Second
)

// otlpTracesPath is the OTLP/HTTP path of traces, the only one served.
const otlpTracesPath = "/v1/traces"

// The media types of OTLP/HTTP.
const (
	mediaProtobuf = "application/x-protobuf"
	mediaJSON     = "application/json"
)

// otlpLimits are the receiver's bounds.
type otlpLimits struct {
	maxBody  int64 // bytes of a request body, compressed and decompressed
	maxSpans int   // spans accepted over the receiver's life
}

// otlpReceiver serves OTLP/HTTP traces on a loopback port for the life of
// one run: the spans the run's processes send, with the run's credential,
// are converted (internal/otlpconv) and handed to sink, which passes them
// to the run file and the exporters (setup.Feed). sink is called from the
// request's goroutine and returns before the response is sent, so a
// child's flush at exit has reached the pipeline once the child's exporter
// returns.
//
// An otlpReceiver is safe for concurrent use. After shutdown it accepts
// nothing.
type otlpReceiver struct {
	sink  func([]sdktrace.ReadOnlySpan)
	token string // the bearer token a request must carry
	lim   otlpLimits
	base  string // http://127.0.0.1:<port>

	srv      *http.Server
	served   chan struct{} // closed when Serve has returned
	slots    chan struct{} // one per request being read and decoded
	handlers sync.WaitGroup

	mu     sync.Mutex
	spans  int  // spans accepted so far; guarded by mu
	closed bool // shutdown is waiting for handlers: no new one may start; guarded by mu
}

// startOTLPReceiver listens on a free 127.0.0.1 port and serves until
// shutdown.
func startOTLPReceiver(sink func([]sdktrace.ReadOnlySpan), lim otlpLimits) (*otlpReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("OTLP receiver: %w", err)
	}
	r := &otlpReceiver{
		sink:   sink,
		token:  newToken(),
		lim:    lim,
		base:   "http://" + ln.Addr().String(),
		served: make(chan struct{}),
		slots:  make(chan struct{}, otlpInFlight),
	}
	r.srv = &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // a 4 MiB body over loopback takes milliseconds
		IdleTimeout:       30 * time.Second,
		// A stray client's bad request is not the run's business.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(r.served)
		_ = r.srv.Serve(ln) // always ErrServerClosed, after shutdown
	}()
	return r, nil
}

// newToken is a random credential of 256 bits, in hex: nothing in it needs
// escaping in a header value.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return hex.EncodeToString(b)
}

// shutdown stops accepting requests and waits, at most
// otlpShutdownTimeout (or until ctx is done), for those being handled;
// then it cuts the connections left. It returns once no request of the
// receiver's is running any more.
func (r *otlpReceiver) shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, otlpShutdownTimeout)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("OTLP receiver: %w", err), r.srv.Close())
	}
	<-r.served
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.handlers.Wait()
	return err
}

// enter counts a request in, unless shutdown is waiting for the requests
// to end: a WaitGroup must not grow while it is waited for.
func (r *otlpReceiver) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.handlers.Add(1)
	return true
}

// ServeHTTP answers one request as OTLP/HTTP says: 200 with an
// ExportTraceServiceResponse (partial_success when spans were refused),
// else a google.rpc.Status body with 400, 401, 404, 405, 413 or 415 (503
// when a request slips in as the receiver shuts down).
func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !r.enter() {
		writeStatus(w, mediaProtobuf, http.StatusServiceUnavailable, "the run is ending")
		return
	}
	defer r.handlers.Done()
	media, mediaOK := otlpMedia(req.Header.Get("Content-Type"))
	reply := media
	if !mediaOK {
		reply = mediaProtobuf
	}
	switch {
	case req.URL.Path != otlpTracesPath:
		writeStatus(w, reply, http.StatusNotFound, "only "+otlpTracesPath+" is served here")
		return
	case req.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		writeStatus(w, reply, http.StatusMethodNotAllowed, "use POST")
		return
	case !r.authorized(req.Header.Get("Authorization")):
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeStatus(w, reply, http.StatusUnauthorized, "missing or wrong credential: send the OTEL_EXPORTER_OTLP_HEADERS that stagetrack run gave")
		return
	case !mediaOK:
		writeStatus(w, reply, http.StatusUnsupportedMediaType, "Content-Type must be "+mediaProtobuf+" or "+mediaJSON)
		return
	}

	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-req.Context().Done():
		return
	}
	body, code, err := r.readBody(w, req)
	if err != nil {
		writeStatus(w, reply, code, err.Error())
		return
	}
	var msg coltracepb.ExportTraceServiceRequest
	switch {
	case len(body) == 0:
		// An empty request: success, as the OTLP spec asks.
	case media == mediaJSON:
		err = unmarshalOTLPJSON(body, &msg)
	default:
		err = proto.Unmarshal(body, &msg)
	}
	if err != nil {
		writeStatus(w, reply, http.StatusBadRequest, "cannot decode the request: "+err.Error())
		return
	}

	spans, rejected := otlpconv.Spans(msg.GetResourceSpans())
	var why []string
	if rejected > 0 {
		why = append(why, fmt.Sprintf("%d spans with an invalid trace or span id", rejected))
	}
	kept := r.take(len(spans))
	if over := len(spans) - kept; over > 0 {
		rejected += over
		why = append(why, fmt.Sprintf("%d spans over the run's limit of %d", over, r.lim.maxSpans))
	}
	if kept > 0 {
		r.sink(spans[:kept])
	}

	resp := &coltracepb.ExportTraceServiceResponse{}
	if rejected > 0 {
		resp.PartialSuccess = &coltracepb.ExportTracePartialSuccess{
			RejectedSpans: int64(rejected),
			ErrorMessage:  "stagetrack run refused " + strings.Join(why, " and "),
		}
	}
	writeMessage(w, reply, http.StatusOK, resp)
}

// authorized reports whether an Authorization header value carries the
// run's token. Some SDKs do not percent-decode OTEL_EXPORTER_OTLP_HEADERS;
// for them the space reaches here as "%20", which is accepted too.
func (r *otlpReceiver) authorized(h string) bool {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok {
		scheme, tok, ok = strings.Cut(h, "%20")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(r.token)) == 1
}

// take counts up to n more spans against the run's limit and returns how
// many of them it may keep.
func (r *otlpReceiver) take(n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n = min(n, r.lim.maxSpans-r.spans)
	n = max(n, 0)
	r.spans += n
	return n
}

// readBody reads the request body, gunzipped when Content-Encoding says
// gzip, refusing more than the limit at either stage (413). On error it
// returns the status code to answer.
func (r *otlpReceiver) readBody(w http.ResponseWriter, req *http.Request) ([]byte, int, error) {
	if req.ContentLength > r.lim.maxBody {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the request body is larger than %d bytes", r.lim.maxBody)
	}
	var body io.Reader = http.MaxBytesReader(w, req.Body, r.lim.maxBody)
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
	b, err := io.ReadAll(io.LimitReader(body, r.lim.maxBody+1))
	if err != nil {
		return nil, bodyErrorCode(err), fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > r.lim.maxBody {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the decompressed request body is larger than %d bytes", r.lim.maxBody)
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

// writeStatus answers with code and a google.rpc.Status saying msg, as the
// OTLP/HTTP spec asks of every failed request.
func writeStatus(w http.ResponseWriter, media string, code int, msg string) {
	writeMessage(w, media, code, &statuspb.Status{Code: grpcCode(code), Message: msg})
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
