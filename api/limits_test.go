package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestCustomerLimitOverAPI: a message from the customer past the router's
// limit is 409 limit_reached, naming the limit, and is not stored.
func TestCustomerLimitOverAPI(t *testing.T) {
	e := newEnvWith(t, envOptions{customerMessages: 2})
	e.seed()
	c := e.create(`{"channel":"api","queue":"billing","body":"first"}`)
	path := "/api/v1/contacts/" + c.ID + "/messages"
	tests := []struct {
		name, body string
		want       int
		wantCode   string
	}{
		{"second-in", `{"direction":"in","body":"second"}`, http.StatusCreated, ""},
		{"third-in-over-the-limit", `{"direction":"in","body":"third"}`, http.StatusConflict, codeLimitReached},
		{"out-is-not-limited", `{"direction":"out","body":"we are on it"}`, http.StatusCreated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("POST", path, integrationToken, tt.body)
			if res.status != tt.want {
				t.Fatalf("got status %d, want %d; body %s", res.status, tt.want, res.body)
			}
			if tt.wantCode == "" {
				return
			}
			got := decodeAs[apiError](t, res).Error
			if got.Code != tt.wantCode || !strings.Contains(got.Message, "at most 2 messages from the customer") {
				t.Errorf("error: got %+v, want code %s naming the limit of 2 messages", got, tt.wantCode)
			}
		})
	}
	var bodies []string
	for _, m := range e.contact(c.ID).Messages {
		bodies = append(bodies, m.Body)
	}
	if got, want := strings.Join(bodies, "|"), "first|second|we are on it"; got != want {
		t.Errorf("stored messages: got %q, want %q", got, want)
	}
}
