package agents

import "errors"

// Sentinel errors. Errors returned by this package wrap them; test with
// errors.Is.
var (
	// ErrMissingOption is returned by NewHub when a required option is
	// not set.
	ErrMissingOption = errors.New("agents: missing option")
	// ErrNotRecorded is wrapped by an Options.OnOfferOutcome error that
	// a retry may cure (the store failed); the agent is told unavailable.
	ErrNotRecorded = errors.New("agents: not recorded")
)

// errUnavailable says that a request needs something this hub was not
// given (Options.Verify); it is answered unavailable.
var errUnavailable = errors.New("agents: unavailable")
