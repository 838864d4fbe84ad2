package chat

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchboard/switchboard/router"
)

// FuzzFrame holds the frame decoder to its contract on any input: it
// never panics, refuses with a *frameError, and what it accepts is
// well-formed (a known type with its data set and within the limits).
func FuzzFrame(f *testing.F) {
	const maxBody = 64
	seeds := []string{
		// Valid frames of every client type.
		`{"type":"start","id":"1","data":{"name":"Ada","email":"ada@example.com","topic":"billing"}}`,
		`{"type":"start","data":{"name":"Ada","phone":"+33 1 23","topic":"billing","message":"hi","leave_message":true}}`,
		`{"type":"resume","data":{"conversation_id":"c1","token":"AQ.sig","last_seq":3}}`,
		`{"type":"send","id":"2","data":{"body":"hello <img src=x onerror=alert(1)>","client_id":"k1"}}`,
		`{"type":"typing"}`,
		`{"type":"read","data":{"up_to_seq":7}}`,
		`{"type":"leave","data":null}`,
		`{"type":"history","id":"3","data":{"before_seq":41}}`,
		`{"type":"csat","id":"4","data":{"score":4,"comment":"quick and kind"}}`,
		`{"type":"csat","data":{"score":9}}`,
		// Whitespace around the object is fine.
		" \n{\"type\":\"typing\"}\t",
		// Refusals: unknown type and field, trailing data, wrong types.
		`{"type":"close_all"}`,
		`{"type":"send","data":{"body":"x","client_id":"1","agent":true}}`,
		`{"type":"typing"}{"type":"typing"}`,
		`{"type":"send","data":{"body":1,"client_id":"1"}}`,
		`{"type":"read","data":{"up_to_seq":-1}}`,
		`{"type":"history","data":{"before_seq":0}}`,
		// Not an object, not JSON, not UTF-8, empty.
		`[]`, `null`, `"start"`, `{`, "\xff\xfe", ``,
		// Duplicate keys and an escaped type name.
		`{"type":"send","type":"typing"}`,
		`{"type":"typ\u0069ng"}`,
		// Over the body limit.
		`{"type":"send","data":{"body":"` + strings.Repeat("x", maxBody+1) + `","client_id":"1"}}`,
		// Deep nesting inside data.
		`{"type":"typing","data":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseFrame(b, maxBody)
		if err != nil {
			var fe *frameError
			if !errors.As(err, &fe) || fe.Code != codeInvalid {
				t.Fatalf("refusal %v is not an invalid frameError", err)
			}
			return
		}
		if len(req.ID) > maxRequestID {
			t.Fatalf("accepted id of %d bytes", len(req.ID))
		}
		switch req.Type {
		case typeStart:
			s := req.Start
			if s == nil || s.Name == "" || s.Topic == "" || len(s.Message) > maxBody || !utf8.ValidString(s.Name) {
				t.Fatalf("accepted start %+v", s)
			}
			if errs := (router.Customer{Name: s.Name, Email: s.Email, Phone: s.Phone}).Validate(); len(errs) > 0 {
				t.Fatalf("accepted start %+v that the router refuses: %v", s, errs[0])
			}
			if s.LeaveMessage && (s.Message == "" || s.Email == "" && s.Phone == "") {
				t.Fatalf("accepted leave_message without message or contact: %+v", s)
			}
		case typeResume:
			if r := req.Resume; r == nil || r.ConversationID == "" || r.Token == "" || r.LastSeq < 0 {
				t.Fatalf("accepted resume %+v", r)
			}
		case typeSend:
			s := req.Send
			if s == nil || strings.TrimSpace(s.Body) == "" || len(s.Body) > maxBody || s.ClientID == "" || len(s.ClientID) > router.MaxClientIDLen {
				t.Fatalf("accepted send %+v", s)
			}
		case typeRead:
			if req.Read == nil || req.Read.UpToSeq < 0 {
				t.Fatalf("accepted read %+v", req.Read)
			}
		case typeHistory:
			if req.History == nil || req.History.BeforeSeq < 1 {
				t.Fatalf("accepted history %+v", req.History)
			}
		case typeCSAT:
			if req.CSAT == nil || req.CSAT.check() != nil {
				t.Fatalf("accepted csat %+v", req.CSAT)
			}
		case typeTyping, typeLeave:
		default:
			t.Fatalf("accepted type %q", req.Type)
		}
		// What was accepted re-encodes and is accepted again the same.
		var data any
		switch {
		case req.Start != nil:
			data = req.Start
		case req.Resume != nil:
			data = req.Resume
		case req.Send != nil:
			data = req.Send
		case req.Read != nil:
			data = req.Read
		case req.History != nil:
			data = req.History
		case req.CSAT != nil:
			data = req.CSAT
		}
		raw, _ := json.Marshal(data)
		again, err := parseFrame(mustJSON(t, envelope{Type: req.Type, ID: req.ID, Data: raw}), maxBody)
		if err != nil || again.Type != req.Type {
			t.Fatalf("re-encoded frame refused: %v", err)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A refused frame says what is wrong where, in the words of every other
// entry point (strictjson): the field's path and what was wanted; the
// error answers the request's id when it could be read.
func TestParseFrameNamesTheField(t *testing.T) {
	for _, tc := range []struct{ frame, id, want string }{
		{`{"type":"send","id":"9","data":{"body":7}}`, "9", `send data: field "body": got number, want a string`},
		{`{"type":"start","id":"1","data":{"name":"Xavier","mail":"x@example.com"}}`, "1", `start data: unknown field "mail"; valid fields there: `},
		{`{"type":"read","data":[1]}`, "", `read data must be a JSON object ({...}), got an array`},
		{`{"type":"leave","colour":1}`, "", `unknown field "colour"; valid fields there: data, id, seq, type`},
		{"{\"type\":\"send\",\"data\":{\"body\":\"\xff\"}}", "", `frame is not valid UTF-8`},
		{`["send"]`, "", `frame must be a JSON object ({...}), got an array`},
	} {
		_, err := parseFrame([]byte(tc.frame), 1000)
		var fe *frameError
		if !errors.As(err, &fe) || fe.ID != tc.id || fe.Code != codeInvalid || !strings.Contains(fe.Msg, tc.want) {
			t.Errorf("%s: got %#v, want an invalid frame for id %q containing %q", tc.frame, err, tc.id, tc.want)
		}
	}
}
