package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// A value refused by its own decoder (router.Duration) is named by its
// path, however deep; encoding/json's error does not say where it was.
func TestFindUnmarshalError(t *testing.T) {
	type step struct {
		After router.Duration `json:"after"`
	}
	type body struct {
		Name  string                     `json:"name"`
		Wait  *router.Duration           `json:"wait"`
		Steps []step                     `json:"steps"`
		ByKey map[string]router.Duration `json:"by_key"`
	}
	tests := []struct {
		body, wantPath, wantErr string
	}{
		{`{"name":"x","wait":"soon"}`, "wait", `invalid duration "soon"`},
		{`{"steps":[{"after":"1m"},{"after":"later"}]}`, "steps[1].after", `invalid duration "later"`},
		{`{"by_key":{"a":"1s","b":5}}`, "by_key.b", `invalid duration 5`},
		{`{"name":"x","other":{"wait":"soon"},"wait":"2s"}`, "", ""},
	}
	for _, tt := range tests {
		var dst body
		if err := json.Unmarshal([]byte(tt.body), &dst); (err == nil) != (tt.wantErr == "") {
			t.Fatalf("%s: json.Unmarshal: %v", tt.body, err)
		}
		path, err := findUnmarshalError([]byte(tt.body), reflect.TypeOf(&dst))
		if path != tt.wantPath || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: got %q, %v; want %q, %q", tt.body, path, err, tt.wantPath, tt.wantErr)
		}
	}
}
