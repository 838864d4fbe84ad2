package config

import (
	"errors"
	"fmt"
	"strings"
)

// maxErrors caps how many problems one Parse or Validate reports.
const maxErrors = 20

// Error is one problem with a configuration, at a place in its file. Parse,
// Load and Validate return an *Error, or several joined with errors.Join;
// errors.As finds the first.
type Error struct {
	// File is the file's name as given to Parse or Load; empty for a
	// Config built in Go.
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Field is the path of the field, such as "queues[1].strategy"; empty
	// for a problem with the document as a whole.
	Field string
	// Msg says what is wrong and what would be valid.
	Msg string
}

// Error formats e as "config: file:line:col: field: msg", leaving out what
// is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// errorList collects problems, up to maxErrors.
type errorList struct {
	errs    []error
	dropped int
}

func (l *errorList) add(e *Error) {
	if len(l.errs) >= maxErrors {
		l.dropped++
		return
	}
	l.errs = append(l.errs, e)
}

func (l *errorList) full() bool { return len(l.errs) >= maxErrors }

// err returns nil, the one error, or all of them joined.
func (l *errorList) err() error {
	switch {
	case len(l.errs) == 0:
		return nil
	case len(l.errs) == 1:
		return l.errs[0]
	}
	errs := l.errs
	if l.dropped > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("config: %d more problems not shown", l.dropped))
	}
	return errors.Join(errs...)
}
