package receiver

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stage-tracker/stage-tracker/otlpspans"
)

// The receiver's bounds, unless an option sets others.
const (
	// DefaultMaxBody bounds a request body, as sent and once
	// decompressed: an SDK's batch of 512 spans is far smaller.
	DefaultMaxBody = 4 << 20
	// DefaultMaxSpans bounds the spans one run accepts from its
	// processes, so that a runaway child cannot grow the run file, and
	// stagetrack's memory, without end.
	DefaultMaxSpans = 100_000
	// DefaultBodyTimeout bounds the time to read one request's body, from
	// when it is authorised: a 4 MiB body over loopback takes
	// milliseconds, an SDK's export times out after 10 seconds.
	DefaultBodyTimeout = 10 * time.Second
	// inFlight bounds the requests decoded at once, and so the memory a
	// burst of large requests takes. A body is read before its request
	// takes a slot: a slow sender holds only its own request.
	inFlight = 4
	// reading bounds the bodies being read at once (each at most maxBody
	// bytes), beside the decode slots.
	reading = 64
	// shutdownTimeout bounds the wait, once the run's command has exited,
	// for the requests still being handled.
	shutdownTimeout = 5 * time.Second
)

// TracesPath is the OTLP/HTTP path of traces, the only one served.
const TracesPath = "/v1/traces"

// Option sets a bound of a [Receiver].
type Option interface{ apply(*config) }

type config struct {
	maxBody     int64         // bytes of a request body, compressed and decompressed
	maxSpans    int           // spans accepted over the receiver's life
	bodyTimeout time.Duration // to read one body
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithMaxBody bounds a request body, as sent and once decompressed
// (default [DefaultMaxBody]); n <= 0 is ignored.
func WithMaxBody(n int64) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxBody = n
		}
	})
}

// WithBodyTimeout bounds the time to read one request's body (default
// [DefaultBodyTimeout]); a sender that takes longer gets its connection
// cut. d <= 0 is ignored.
func WithBodyTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.bodyTimeout = d
		}
	})
}

// WithMaxSpans bounds the spans accepted over the receiver's life
// (default [DefaultMaxSpans]); n < 0 is ignored.
func WithMaxSpans(n int) Option {
	return optionFunc(func(c *config) {
		if n >= 0 {
			c.maxSpans = n
		}
	})
}

// Receiver serves OTLP/HTTP traces on a loopback port for the life of one
// run: the spans the run's processes send, with the run's credential, are
// converted (package otlpspans) and handed to the sink. The sink is called
// from the request's goroutine and returns before the response is sent,
// so a child's flush at exit has reached the pipeline once the child's
// exporter returns.
//
// A Receiver is safe for concurrent use. After Shutdown it accepts
// nothing.
type Receiver struct {
	sink  func([]sdktrace.ReadOnlySpan)
	token string // the bearer token a request must carry
	cfg   config
	base  string // http://127.0.0.1:<port>

	srv      *http.Server
	served   chan struct{} // closed when Serve has returned
	readers  chan struct{} // one per request whose body is being read
	slots    chan struct{} // one per request being decoded and handed on
	handlers sync.WaitGroup

	mu     sync.Mutex
	spans  int  // spans accepted so far; guarded by mu
	closed bool // Shutdown is waiting for handlers: no new one may start; guarded by mu
}

// Start listens on a free 127.0.0.1 port and serves until Shutdown. ctx
// bounds the listening only.
func Start(ctx context.Context, sink func([]sdktrace.ReadOnlySpan), opts ...Option) (*Receiver, error) {
	cfg := config{maxBody: DefaultMaxBody, maxSpans: DefaultMaxSpans, bodyTimeout: DefaultBodyTimeout}
	for _, o := range opts {
		o.apply(&cfg)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("OTLP receiver: %w", err)
	}
	r := &Receiver{
		sink:    sink,
		token:   newToken(),
		cfg:     cfg,
		base:    "http://" + ln.Addr().String(),
		served:  make(chan struct{}),
		slots:   make(chan struct{}, inFlight),
		readers: make(chan struct{}, reading),
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
		_ = r.srv.Serve(ln) // always ErrServerClosed, after Shutdown
	}()
	return r, nil
}

// URL is the receiver's traces URL (http://127.0.0.1:<port>/v1/traces).
func (r *Receiver) URL() string { return r.base + TracesPath }

// Token is the credential a request must carry ("Authorization: Bearer
// <token>"): 64 hex digits, another for each receiver.
func (r *Receiver) Token() string { return r.token }

// newToken is a random credential of 256 bits, in hex: nothing in it needs
// escaping in a header value.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return hex.EncodeToString(b)
}

// Shutdown stops accepting requests and waits, at most 5 seconds (or until
// ctx is done), for those being handled; then it cuts the connections
// left. It returns once no request of the receiver's is running any more.
func (r *Receiver) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, shutdownTimeout)
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

// enter counts a request in, unless Shutdown is waiting for the requests
// to end: a WaitGroup must not grow while it is waited for.
func (r *Receiver) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.handlers.Add(1)
	return true
}

// ServeHTTP answers one request as the package doc says.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
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
	case req.URL.Path != TracesPath:
		writeStatus(w, reply, http.StatusNotFound, "only "+TracesPath+" is served here")
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

	// The body first, within its own deadline, then a decode slot: four
	// slow senders must not hold every slot while they trickle.
	body, code, err := r.read(w, req)
	if err != nil {
		if code != 0 {
			writeStatus(w, reply, code, err.Error())
		}
		return
	}
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-req.Context().Done():
		return
	}
	td, err := decode(media, body)
	if err != nil {
		writeStatus(w, reply, http.StatusBadRequest, "cannot decode the request: "+err.Error())
		return
	}
	if bytes.Contains(body, []byte(r.token)) {
		// A child that put the run's credential in what it sends (its
		// environment as an attribute, an error quoting a header) must
		// not write it into the run file and journal.
		redactTraces(td, r.token)
	}

	spans, invalid := otlpspans.FromTraces(td)
	rejected := invalid.Total()
	var why []string
	if rejected > 0 {
		why = append(why, invalid.String())
	}
	kept := r.take(len(spans))
	if over := len(spans) - kept; over > 0 {
		rejected += over
		why = append(why, fmt.Sprintf("%d spans over the run's limit of %d", over, r.cfg.maxSpans))
	}
	if kept > 0 {
		r.sink(spans[:kept])
	}

	writeResponse(w, reply, rejected, "stagetrack run refused "+strings.Join(why, " and "))
}

// read reads req's body within the body timeout, holding a reader's place
// (not a decode slot) meanwhile. A code of 0 with an error: the request
// ended, nothing to answer.
func (r *Receiver) read(w http.ResponseWriter, req *http.Request) ([]byte, int, error) {
	select {
	case r.readers <- struct{}{}:
		defer func() { <-r.readers }()
	case <-req.Context().Done():
		return nil, 0, req.Context().Err()
	}
	// From now, not from when the connection was accepted: the server's
	// ReadTimeout covers a request's headers too.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(r.cfg.bodyTimeout))
	return readBody(w, req, r.cfg.maxBody)
}

// authorized reports whether an Authorization header value carries the
// run's token. Some SDKs do not percent-decode OTEL_EXPORTER_OTLP_HEADERS;
// for them the space reaches here as "%20", which is accepted too.
func (r *Receiver) authorized(h string) bool {
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
func (r *Receiver) take(n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n = min(n, r.cfg.maxSpans-r.spans)
	n = max(n, 0)
	r.spans += n
	return n
}
