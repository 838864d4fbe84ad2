package agents

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeFrame(t *testing.T) {
	for _, tc := range []struct {
		name, frame string
		want        any
	}{
		{"set-state", `{"type":"set_state","id":"1","data":{"state":"away","reason":"lunch"}}`, &setStateArgs{State: "away", Reason: "lunch"}},
		{"accept", `{"type":"accept","id":"2","data":{"contact_id":"c1"}}`, &acceptArgs{ContactID: "c1"}},
		{"send", `{"type":"send","data":{"contact_id":"c1","body":"hi","client_id":"k"}}`, &sendArgs{ContactID: "c1", Body: "hi", ClientID: "k"}},
		{"close-without-disposition", `{"type":"close","data":{"contact_id":"c1"}}`, &dispositionArgs{ContactID: "c1"}},
		{"transfer-to-agent", `{"type":"transfer","data":{"contact_id":"c1","to_agent":"bob"}}`, &transferArgs{ContactID: "c1", ToAgent: "bob"}},
		{"outcome", `{"type":"offer_outcome","data":{"contact_id":"c1","offer_id":"o","outcome":"not_relevant"}}`, &outcomeArgs{ContactID: "c1", OfferID: "o", Outcome: "not_relevant"}},
		{"typing", `{"type":"typing","data":{"contact_id":"c1"}}`, &typingArgs{ContactID: "c1"}},
		{"read", `{"type":"read","id":"3","data":{"contact_id":"c1","up_to_seq":7}}`, &readArgs{ContactID: "c1", UpToSeq: 7}},
		{"read-without-seq", `{"type":"read","data":{"contact_id":"c1"}}`, nil},
		{"typing-without-contact", `{"type":"typing","data":{}}`, nil},
		{"transfer-to-both", `{"type":"transfer","data":{"contact_id":"c1","queue":"q","to_agent":"bob"}}`, nil},
		{"send-files-and-cc", `{"type":"send","data":{"contact_id":"c1","body":"hi","attachments":[{"sha256":"` + strings.Repeat("a", 64) + `","name":"a.pdf"}],"cc":[]}}`,
			&sendArgs{ContactID: "c1", Body: "hi", Attachments: []sendFile{{SHA256: strings.Repeat("a", 64), Name: "a.pdf"}}, Cc: []string{}}},
		{"send-note-with-cc", `{"type":"send","data":{"contact_id":"c1","body":"hi","note":true,"cc":[]}}`, nil},
		{"send-file-without-hash", `{"type":"send","data":{"contact_id":"c1","body":"hi","attachments":[{"name":"a.pdf"}]}}`, nil},
		{"send-empty-body", `{"type":"send","data":{"contact_id":"c1","body":""}}`, nil},
		{"long-id", `{"type":"accept","id":"` + string(make([]byte, 65)) + `","data":{"contact_id":"c1"}}`, nil},
		{"data-not-object", `{"type":"accept","data":"c1"}`, nil},
		{"no-type", `{"data":{}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := decodeFrame([]byte(tc.frame))
			if tc.want == nil {
				if !errors.Is(err, errInvalidFrame) {
					t.Fatalf("got %+v, %v, want an invalid frame", req, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(req.Args, tc.want) {
				t.Fatalf("got %+v, %v, want %+v", req.Args, err, tc.want)
			}
		})
	}
}

// FuzzFrame checks the decoder of client frames: it never panics, its
// errors are invalid frames, and what it accepts survives a round trip.
func FuzzFrame(f *testing.F) {
	for _, seed := range []string{
		// Every request type, as the desktop sends it.
		`{"type":"set_state","id":"1","data":{"state":"available"}}`,
		`{"type":"set_state","id":"2","data":{"state":"away","reason":"lunch"}}`,
		`{"type":"accept","id":"3","data":{"contact_id":"01J0000000"}}`,
		`{"type":"decline","id":"4","data":{"contact_id":"c","reason":"wrong language"}}`,
		`{"type":"send","id":"5","data":{"contact_id":"c","body":"<img src=x onerror=alert(1)>","client_id":"k1"}}`,
		`{"type":"send","id":"5b","data":{"contact_id":"c","body":"see attached","client_id":"k2","attachments":[{"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","name":"invoice.pdf","type":"application/pdf"}],"cc":["Bob <bob@example.com>"]}}`,
		`{"type":"send","id":"5c","data":{"contact_id":"c","body":"to the customer alone","cc":[]}}`,
		`{"type":"wrapup","id":"6","data":{"contact_id":"c","disposition":"resolved","notes":"ok"}}`,
		`{"type":"close","id":"7","data":{"contact_id":"c"}}`,
		`{"type":"transfer","id":"8","data":{"contact_id":"c","queue":"sales"}}`,
		`{"type":"transfer_targets","id":"8b"}`,
		`{"type":"offer_outcome","id":"9","data":{"contact_id":"c","offer_id":"o","outcome":"presented"}}`,
		`{"type":"typing","data":{"contact_id":"c"}}`,
		`{"type":"tag","id":"9b","data":{"contact_id":"c","add":[],"remove":["vip"]}}`,
		`{"type":"verify","id":"9c","data":{"contact_id":"c","method":"security questions"}}`,
		`{"type":"read","id":"10","data":{"contact_id":"c","up_to_seq":3}}`,
		// Malformed: truncated, wrong shapes, unknown fields, trailing data.
		`{"type":`,
		`[]`,
		`null`,
		`{"type":"accept","data":null}`,
		`{"type":"accept","data":{"contact_id":1}}`,
		`{"type":"accept","seq":1,"data":{"contact_id":"c"}}`,
		`{"type":"accept","data":{"contact_id":"c"}}{"type":"accept"}`,
		// Case-folded keys and escapes, which encoding/json accepts.
		`{"TYPE":"accept","Data":{"Contact_ID":"c\u0000"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeFrame(b)
		if err != nil {
			if !errors.Is(err, errInvalidFrame) {
				t.Fatalf("got error %v, want it to wrap errInvalidFrame", err)
			}
			if len(req.ID) > maxRequestID {
				t.Fatalf("got id of %d bytes in an error", len(req.ID))
			}
			return
		}
		if req.Args == nil || len(req.ID) > maxRequestID {
			t.Fatalf("accepted %q as %+v", b, req)
		}
		data, err := json.Marshal(req.Args)
		if err != nil {
			t.Fatalf("encode %+v: %v", req.Args, err)
		}
		again, err := json.Marshal(map[string]any{"type": req.Type, "id": req.ID, "data": json.RawMessage(data)})
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		back, err := decodeFrame(again)
		if err != nil {
			t.Fatalf("round trip of %q: %s: %v", b, again, err)
		}
		if !reflect.DeepEqual(back, req) {
			t.Fatalf("round trip of %q: got %+v, want %+v", b, back, req)
		}
	})
}

// A refused frame says what is wrong where, in the words of every other
// entry point (strictjson): the field's path and what was wanted.
func TestDecodeFrameNamesTheField(t *testing.T) {
	for _, tc := range []struct{ frame, want string }{
		{`{"type":"send","data":{"contact_id":"c1","body":7}}`, `send data: field "body": got number, want a string`},
		{`{"type":"accept","data":{"contact":"c1"}}`, `accept data: unknown field "contact"; valid fields there: contact_id`},
		{`{"type":"accept","data":[1]}`, `accept data must be a JSON object ({...}), got an array`},
		{`{"type":"accept","colour":1}`, `unknown field "colour"; valid fields there: data, id, type`},
		{`{"type":"accept"} {}`, `frame has data after the JSON object`},
	} {
		_, err := decodeFrame([]byte(tc.frame))
		var r *refusal
		if !errors.As(err, &r) || !strings.Contains(r.msg, tc.want) {
			t.Errorf("%s: got %v, want a refusal containing %q", tc.frame, err, tc.want)
		}
	}
}
