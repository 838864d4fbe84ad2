package httpstatus

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRecorder holds Status and Written to what a client receives from
// a real server (net/http's rules: the first final status counts, a body
// without one is a 200, an informational status goes ahead of it).
func TestRecorder(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter)
		written bool
	}{
		{"nothing-written", func(http.ResponseWriter) {}, false},
		{"a-body-only", func(w http.ResponseWriter) { w.Write([]byte("hi")) }, true},
		{"a-status", func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) }, true},
		{"the-first-status-counts", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusForbidden)
			w.WriteHeader(http.StatusInternalServerError)
		}, true},
		{"a-status-after-the-body", func(w http.ResponseWriter) {
			w.Write([]byte("hi"))
			w.WriteHeader(http.StatusServiceUnavailable)
		}, true},
		{"an-informational-status-first", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusTeapot)
		}, true},
		{"only-an-informational-status", func(w http.ResponseWriter) { w.WriteHeader(http.StatusEarlyHints) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type recorded struct {
				status  int
				written bool
			}
			got := make(chan recorded, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				rec := NewRecorder(w)
				tt.handler(rec)
				got <- recorded{rec.Status(), rec.Written()}
			}))
			defer srv.Close()
			res, err := http.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			r := <-got
			if r.status != res.StatusCode {
				t.Errorf("Status: got %d, the client got %d", r.status, res.StatusCode)
			}
			if r.written != tt.written {
				t.Errorf("Written: got %v, want %v", r.written, tt.written)
			}
		})
	}
}

// TestRecorderUnwraps: http.ResponseController reaches the wrapped
// writer through a Recorder.
func TestRecorderUnwraps(t *testing.T) {
	w := httptest.NewRecorder()
	if err := http.NewResponseController(NewRecorder(w)).Flush(); err != nil || !w.Flushed {
		t.Errorf("Flush: got %v, flushed %v; want the wrapped writer flushed", err, w.Flushed)
	}
}
