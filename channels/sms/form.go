package sms

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxParams bounds the parameters of one webhook form.
const maxParams = 256

// parseForm reads an application/x-www-form-urlencoded body into its
// parameters, in order, repeated keys kept. Unlike url.ParseQuery it
// drops nothing silently: a bad escape, a semicolon, an empty key, text
// that is not UTF-8 or more than maxParams parameters is an error.
func parseForm(body string) ([]Param, error) {
	if body == "" {
		return nil, nil
	}
	if strings.Contains(body, ";") {
		return nil, fmt.Errorf("form: a semicolon is not a separator (want &)")
	}
	parts := strings.Split(body, "&")
	if len(parts) > maxParams {
		return nil, fmt.Errorf("form: %d parameters, want at most %d", len(parts), maxParams)
	}
	out := make([]Param, 0, len(parts))
	for i, part := range parts {
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("form: parameter %d: key: %w", i+1, err)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("form: parameter %q: value: %w", key, err)
		}
		switch {
		case key == "":
			return nil, fmt.Errorf("form: parameter %d has no key", i+1)
		case !utf8.ValidString(key) || !utf8.ValidString(val):
			return nil, fmt.Errorf("form: parameter %q is not UTF-8", key)
		}
		out = append(out, Param{Key: key, Value: val})
	}
	return out, nil
}

// params is a webhook's parameters by key: the form's, or a JSON body's.
type params map[string][]string

func paramsOf(ps []Param) params {
	m := params{}
	for _, p := range ps {
		m[p.Key] = append(m[p.Key], p.Value)
	}
	return m
}

// one returns the value of key and an error when it is given more than
// once (a parameter of Twilio's has one value).
func (p params) one(key string) (string, error) {
	switch vs := p[key]; len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	default:
		return "", fmt.Errorf("parameter %s given %d times, want once", key, len(vs))
	}
}
