package customers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/switchboard/switchboard/store"
)

// DefaultBatchRows is how many rows Import writes per transaction when
// ImportOptions.BatchRows is 0: large enough that a commit's fsync is
// shared by many rows, small enough that a running daemon waits for the
// write lock for a fraction of a second at most.
const DefaultBatchRows = 5000

// ImportStore is what Import needs of the durable store; *store.DB
// implements it.
type ImportStore interface {
	ImportCustomers(ctx context.Context, profiles []store.CustomerImport) ([]store.ImportResult, error)
}

var _ ImportStore = (*store.DB)(nil)

// ImportOptions configure Import. A nil *ImportOptions means the
// defaults.
type ImportOptions struct {
	// Verified records every identity of the file as verified; by
	// default they are claims.
	Verified bool
	// By names who imports (the file), in the audit of an identity
	// taken over from a customer that only claimed it.
	By string
	// BatchRows is how many rows share a transaction; 0 means
	// DefaultBatchRows.
	BatchRows int
	// Progress, if set, is called after each committed batch with the
	// totals so far, on the goroutine that called Import.
	Progress func(ImportSummary)
	// Rejected, if set, is called for each rejected row, in the order of
	// the file, once its batch is committed, on the goroutine that
	// called Import.
	Rejected func(Rejection)
	// Now is the clock of created_at and updated_at; nil means
	// time.Now.
	Now func() time.Time
}

// ImportSummary counts the rows of an import.
type ImportSummary struct {
	// Rows is how many rows were read (blank lines aside), the sum of
	// the four outcomes.
	Rows, Created, Updated, Unchanged, Rejected int
	// Line is the last line of the file that was committed (or
	// rejected): an interrupted import has written every row up to it.
	Line int
}

// Rejection is a row that Import did not write, and why.
type Rejection struct {
	// Line is the row's line in the file.
	Line int
	// Field names the field at fault ("phones[1]", "id"); empty when the
	// row as a whole is wrong (not JSON, a CSV row with too few cells).
	Field string
	// Message says what is wrong, naming the field:
	// `field "phones[1]": phone "555": want E.164 ...`.
	Message string
}

func (r Rejection) String() string { return fmt.Sprintf("line %d: %s", r.Line, r.Message) }

// Import reads every row of rows and writes the profiles to s in
// batches, each row as PUT /api/v1/customers/{id} would: checked by
// ProfileInput.Profile, then created or replaced with its identities
// added. A row that is wrong, or that the store refuses (an identity of
// another customer, an erased or merged-away customer), is rejected
// alone, with its line. A customer named by several rows gets the last
// row's profile and every row's identities. Importing the same file
// again creates nothing and changes nothing: its rows are Unchanged.
//
// Reading and checking run on their own goroutine, up to two batches
// ahead of the writes. Each batch is committed before the next is written, so
// when Import fails or ctx ends, the summary says up to which line the
// file is imported; running the import again finishes it. The error is
// nil when every row was read, rejected rows or not.
func Import(ctx context.Context, s ImportStore, rows RowReader, opts *ImportOptions) (ImportSummary, error) {
	var o ImportOptions
	if opts != nil {
		o = *opts
	}
	if o.BatchRows <= 0 {
		o.BatchRows = DefaultBatchRows
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *importBatch, 1)
	go readBatches(readCtx, rows, &o, batches)

	var sum ImportSummary
	for {
		var b *importBatch
		select {
		case b = <-batches:
		case <-ctx.Done():
			// The reader may be blocked on its input (a quiet stdin):
			// stop without it.
		}
		if b == nil {
			// ctx ended, or the reader stopped before the end of the
			// file because it did.
			return sum, fmt.Errorf("customers: import stopped after line %d: %w", sum.Line, context.Cause(ctx))
		}
		if b.err != nil {
			return sum, b.err
		}
		if err := ctx.Err(); err != nil {
			return sum, fmt.Errorf("customers: import stopped after line %d: %w", sum.Line, err)
		}
		if b.last && len(b.items) == 0 {
			return sum, nil
		}
		results, err := s.ImportCustomers(ctx, b.profiles)
		if err != nil {
			return sum, fmt.Errorf("customers: import: the batch of lines %d to %d: %w", b.items[0].line, b.items[len(b.items)-1].line, err)
		}
		for _, it := range b.items {
			sum.Rows++
			sum.Line = it.line
			rej := it.rejection
			if it.profile >= 0 {
				r := results[it.profile]
				switch r.Outcome {
				case store.ImportCreated:
					sum.Created++
					continue
				case store.ImportUpdated:
					sum.Updated++
					continue
				case store.ImportUnchanged:
					sum.Unchanged++
					continue
				}
				rej = storeRejection(it.line, &it.input, r.Err)
			}
			sum.Rejected++
			if o.Rejected != nil {
				o.Rejected(rej)
			}
		}
		if o.Progress != nil {
			o.Progress(sum)
		}
		if b.last {
			return sum, nil
		}
	}
}

// importBatch is a batch of rows read and checked, or the error that
// ended the reading.
type importBatch struct {
	items    []importItem
	profiles []store.CustomerImport
	// last is set on the batch that ends the file (maybe with no rows).
	last bool
	err  error
}

// importItem is one row of a batch.
type importItem struct {
	line int
	// profile is the row's index in importBatch.profiles, or -1 when it
	// was rejected before the store (see rejection).
	profile   int
	input     ProfileInput
	rejection Rejection
}

// readBatches reads rows into batches of o.BatchRows rows and sends
// them, then closes out. A read error is sent as the last batch.
func readBatches(ctx context.Context, rows RowReader, o *ImportOptions, out chan<- *importBatch) {
	defer close(out)
	send := func(b *importBatch) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	b := &importBatch{}
	for {
		row, err := rows.Next()
		if errors.Is(err, io.EOF) {
			b.last = true
			send(b)
			return
		}
		if err != nil {
			if len(b.items) > 0 && !send(b) {
				return
			}
			send(&importBatch{err: err})
			return
		}
		it := importItem{line: row.Line, profile: -1, input: row.Input}
		err = row.Err
		if err == nil {
			var p Profile
			if p, err = it.input.Profile(o.Verified, o.Now().UTC()); err == nil {
				it.profile = len(b.profiles)
				b.profiles = append(b.profiles, store.CustomerImport{Customer: p.Customer, Identities: p.Identities, By: o.By})
			}
		}
		if err != nil {
			it.rejection = rowRejection(row.Line, err)
		}
		b.items = append(b.items, it)
		if len(b.items) >= o.BatchRows {
			if !send(b) {
				return
			}
			b = &importBatch{}
		}
	}
}

// rowRejection describes a row that could not be read or checked.
func rowRejection(line int, err error) Rejection {
	var fe *FieldError
	if errors.As(err, &fe) {
		return Rejection{Line: line, Field: fe.Field, Message: fe.Message}
	}
	return Rejection{Line: line, Message: err.Error()}
}

// storeRejection describes a row the store refused.
func storeRejection(line int, in *ProfileInput, err error) Rejection {
	var ice *store.IdentityConflictError
	if errors.As(err, &ice) {
		field := in.FieldOf(ice.Kind, ice.Value)
		return Rejection{Line: line, Field: field,
			Message: fmt.Sprintf("field %q: %s %q belongs to another customer (%s)", field, ice.Kind, ice.Value, ice.Owner)}
	}
	msg := "the store refused the row"
	if err != nil {
		msg = strings.TrimPrefix(err.Error(), store.ErrConflict.Error()+": ")
	}
	return Rejection{Line: line, Field: "id", Message: fmt.Sprintf("field %q: %s; it cannot be changed", "id", msg)}
}
