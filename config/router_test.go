package config

import (
	"context"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// nopStore is a router.Store that keeps nothing.
type nopStore struct{}

func (nopStore) Commit(context.Context, *router.Batch) error  { return nil }
func (nopStore) Load(context.Context) (*router.Loaded, error) { return &router.Loaded{}, nil }
func (nopStore) ContactByKey(context.Context, string) (router.Contact, bool, error) {
	return router.Contact{}, false, nil
}
func (nopStore) MessageByExternalID(context.Context, string) (router.Message, bool, error) {
	return router.Message{}, false, nil
}

// TestRouterAccepts checks that what Validate passes, the router takes:
// its options, every queue in the order RouterQueues gives, every agent.
func TestRouterAccepts(t *testing.T) {
	t.Setenv("SB_CRM", "crm-secret")
	t.Setenv("SB_WALL", "wall-secret")
	tests := []struct {
		name string
		c    *Config
	}{
		{"demo", Demo()},
		{"every-field", mustParse(t, "x.yaml", roundTripYAML)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			opts := tt.c.RouterOptions()
			r, err := router.New(nopStore{}, &opts)
			if err != nil {
				t.Fatalf("router.New: %v", err)
			}
			if err := r.Start(ctx); err != nil {
				t.Fatalf("Start: %v", err)
			}
			defer r.Close()
			for _, q := range tt.c.RouterQueues() {
				if _, err := r.PutQueue(ctx, q); err != nil {
					t.Errorf("PutQueue(%s): %v", q.Name, err)
				}
			}
			for _, a := range tt.c.RouterAgents() {
				if _, _, err := r.PutAgent(ctx, a); err != nil {
					t.Errorf("PutAgent(%s): %v", a.ID, err)
				}
			}
		})
	}
}
