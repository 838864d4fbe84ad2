// Package httpstatus records the status an HTTP handler answers with,
// for a request log or a count of outcomes:
//
//	rec := httpstatus.NewRecorder(w)
//	h.ServeHTTP(rec, r)
//	log.Info("request", "path", r.URL.Path, "status", rec.Status())
//
// The HTTP API's request log and the SMS webhooks' counts use it.
package httpstatus

import "net/http"

// Recorder is an http.ResponseWriter that passes everything to the one it
// wraps and remembers the status of the response. Like any
// ResponseWriter, it is used by one handler at a time; it is not safe
// for concurrent use.
type Recorder struct {
	http.ResponseWriter
	// status is the final status written; 0 until one is.
	status int
}

// NewRecorder returns a Recorder writing to w.
func NewRecorder(w http.ResponseWriter) *Recorder { return &Recorder{ResponseWriter: w} }

// WriteHeader writes the status and remembers it if it is the response's
// final one: the first written, and not an informational 1xx (but 101
// Switching Protocols), which net/http sends ahead of it.
func (r *Recorder) WriteHeader(code int) {
	if r.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write writes b; a body written before any status is a 200's.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap returns the wrapped writer, so that http.ResponseController
// reaches it (Flush, deadlines).
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Written reports whether the response's status is written: after that,
// the handler can no longer answer with another.
func (r *Recorder) Written() bool { return r.status != 0 }

// Status returns the response's status: the one written, or 200 when
// none was, which net/http answers for a handler that writes nothing.
func (r *Recorder) Status() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
