package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandlerServesFiles(t *testing.T) {
	tests := []struct {
		name, path, wantType, wantBody string
	}{
		{"index-at-prefix", "/agent/", "text/html; charset=utf-8", "<title>Switchboard"},
		{"index-by-name", "/agent/index.html", "text/html; charset=utf-8", "<title>Switchboard"},
		{"app-module", "/agent/app.js", "text/javascript; charset=utf-8", "import"},
		{"socket-module", "/agent/socket.js", "text/javascript; charset=utf-8", "export class Socket"},
		{"screenpop-module", "/agent/screenpop.js", "text/javascript; charset=utf-8", "renderScreenPop"},
		{"conversation-module", "/agent/conversation.js", "text/javascript; charset=utf-8", "export class Conversation"},
		{"dom-module", "/agent/dom.js", "text/javascript; charset=utf-8", "export function h("},
		{"stylesheet", "/agent/style.css", "text/css; charset=utf-8", ":root"},
	}
	h := Handler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status: got %d, want 200 (body %q)", res.StatusCode, body)
			}
			if got := res.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type: got %q, want %q", got, tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body does not contain %q", tt.wantBody)
			}
			checkSecurityHeaders(t, res.Header)
		})
	}
}

func TestHandlerRefuses(t *testing.T) {
	tests := []struct {
		name, method, path string
		want               int
	}{
		{"unknown-file", http.MethodGet, "/agent/nope.js", http.StatusNotFound},
		{"unknown-extension", http.MethodGet, "/agent/web.go", http.StatusNotFound},
		{"subdirectory", http.MethodGet, "/agent/static/app.js", http.StatusNotFound},
		{"dot-dot", http.MethodGet, "/agent/..", http.StatusNotFound},
		{"outside-prefix", http.MethodGet, "/app.js", http.StatusNotFound},
		{"post", http.MethodPost, "/agent/", http.StatusMethodNotAllowed},
		{"delete", http.MethodDelete, "/agent/app.js", http.StatusMethodNotAllowed},
	}
	h := Handler()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.want {
				t.Fatalf("status: got %d, want %d", rec.Code, tt.want)
			}
			checkSecurityHeaders(t, rec.Result().Header)
		})
	}
}

func TestHandlerHead(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/agent/app.js", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", rec.Code)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("HEAD body: got %d bytes, want 0", rec.Body.Len())
	}
}

// TestContentSecurityPolicyStrict guards the policy itself: everything from
// the own origin, nothing inline, no eval.
func TestContentSecurityPolicyStrict(t *testing.T) {
	for _, want := range []string{"default-src 'self'", "connect-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(ContentSecurityPolicy, want) {
			t.Errorf("policy lacks %q: %s", want, ContentSecurityPolicy)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "data:", "http:", "https:"} {
		if strings.Contains(ContentSecurityPolicy, bad) {
			t.Errorf("policy allows %q: %s", bad, ContentSecurityPolicy)
		}
	}
}

// TestNoMarkupFromStrings keeps the static files free of the DOM APIs that
// parse markup, so customer text can only ever become text.
func TestNoMarkupFromStrings(t *testing.T) {
	files, err := static.ReadDir("static")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".js") && !strings.HasSuffix(f.Name(), ".html") {
			continue
		}
		b, err := static.ReadFile("static/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "createContextualFragment", "DOMParser", " style=", "<script>", " onclick=", " onload="} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s uses %q", f.Name(), bad)
			}
		}
	}
}

func checkSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	if got := h.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
		t.Errorf("Content-Security-Policy: got %q, want %q", got, ContentSecurityPolicy)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options: got %q, want nosniff", got)
	}
}
