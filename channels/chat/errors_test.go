package chat

import (
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// TestRefusal holds the customer's message for a refusal of the router
// to the router's own words, however the error was wrapped.
func TestRefusal(t *testing.T) {
	limit := router.Errorf(router.CodeLimit, "", "a conversation holds at most 2 messages from the customer")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"typed", router.Errorf(router.CodeInvalid, "body", "body longer than 65536 bytes"), "body longer than 65536 bytes"},
		{"typed-wrapped", fmt.Errorf("intake: submit: %w", limit), "a conversation holds at most 2 messages from the customer"},
		{"sentinel-only", fmt.Errorf("intake: %w: contact c1 is ending", router.ErrConflict), "conflicts with the current state"},
		{"not-the-routers", errors.New("disk full"), "the request was refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusal(tt.err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	fe := limitReached("r1", fmt.Errorf("intake: %w", limit))
	if want := "this conversation cannot take more from you (a conversation holds at most 2 messages from the customer); nothing more is kept here, but what you wrote is with us"; fe.Code != codeLimitReached || fe.Msg != want || fe.ID != "r1" {
		t.Errorf("limitReached: got %+v, want %s %q", fe, codeLimitReached, want)
	}
}
