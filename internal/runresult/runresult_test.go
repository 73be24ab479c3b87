package runresult_test

import (
	"errors"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/stage-tracker/stage-tracker/internal/runresult"
)

func TestRendezvous(t *testing.T) {
	key := runresult.Key{Trace: trace.TraceID{1}, Span: trace.SpanID{2}}
	bad := errors.New("disk full")
	tests := []struct {
		name      string
		wait      bool
		publish   []runresult.Result
		want      runresult.Result
		wantFound bool
	}{
		{name: "nobody waits", publish: []runresult.Result{{Path: "a"}}},
		{name: "waiter gets the path", wait: true, publish: []runresult.Result{{Path: "a"}}, want: runresult.Result{Path: "a"}, wantFound: true},
		{name: "an error wins over a path", wait: true, publish: []runresult.Result{{Path: "a"}, {Err: bad}, {Path: "b"}}, want: runresult.Result{Err: bad}, wantFound: true},
		{name: "nothing published", wait: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w *runresult.Waiter
			if tc.wait {
				w = runresult.Wait(key)
			}
			for _, r := range tc.publish {
				if got := runresult.Publish(key, r); got != tc.wait {
					t.Errorf("Publish = %v, want %v", got, tc.wait)
				}
			}
			if w != nil {
				got, ok := w.Result()
				if ok != tc.wantFound || got != tc.want {
					t.Errorf("Result() = %+v, %v; want %+v, %v", got, ok, tc.want, tc.wantFound)
				}
				w.Close()
			}
			if n := runresult.Waiting(); n != 0 {
				t.Errorf("%d waiters left", n)
			}
		})
	}
}

// An exporter that writes the file later claims the run; the waiter sees
// the claim, and Done is closed when the result comes.
func TestClaimThenPublish(t *testing.T) {
	key := runresult.Key{Trace: trace.TraceID{3}, Span: trace.SpanID{4}}
	tests := []struct {
		name        string
		wait        bool
		wantClaimed bool
	}{
		{name: "nobody waits"},
		{name: "a waiter", wait: true, wantClaimed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w *runresult.Waiter
			if tc.wait {
				w = runresult.Wait(key)
				defer w.Close()
				if w.Claimed() {
					t.Fatal("Claimed before any Claim")
				}
			}
			if got := runresult.Claim(key); got != tc.wait {
				t.Errorf("Claim = %v, want %v", got, tc.wait)
			}
			if w == nil {
				return
			}
			if w.Claimed() != tc.wantClaimed {
				t.Errorf("Claimed = %v, want %v", w.Claimed(), tc.wantClaimed)
			}
			select {
			case <-w.Done():
				t.Fatal("Done closed before a result")
			default:
			}
			runresult.Publish(key, runresult.Result{Path: "p"})
			<-w.Done()
			if res, ok := w.Result(); !ok || res.Path != "p" {
				t.Errorf("Result() = %+v, %v; want p", res, ok)
			}
		})
	}
	if n := runresult.Waiting(); n != 0 {
		t.Errorf("%d waiters left", n)
	}
}
