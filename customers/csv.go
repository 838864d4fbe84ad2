package customers

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Row is one profile read from an import file.
type Row struct {
	// Line is the 1-based line of the file where the row starts.
	Line int
	// Input is the profile; incomplete when Err is set.
	Input ProfileInput
	// Err is a *FieldError when the row cannot be read as a profile: a
	// cell that is not a number, an unknown JSON field, a line that is
	// not JSON. The rules of ProfileInput.Profile are not checked yet.
	Err error
}

// RowReader reads the profiles of an import file, one Row at a time;
// see NewCSVReader and NewJSONLReader.
type RowReader interface {
	// Next returns the next row, or io.EOF after the last one. Any other
	// error (reading the file failed) ends the file; a row that is wrong
	// is returned with Row.Err set and the reading goes on.
	Next() (Row, error)
}

// CSV columns: the fields of a ProfileInput, with the consent split in
// two. Only "id" is required.
const (
	colID                  = "id"
	colName                = "name"
	colEmails              = "emails"
	colPhones              = "phones"
	colCRMID               = "crm_id"
	colSegment             = "segment"
	colValue               = "value"
	colLanguage            = "language"
	colConsentMarketing    = "consent_marketing"
	colConsentProfiling    = "consent_profiling"
	colRelationshipManager = "relationship_manager"
	colSMSOptOut           = "sms_opt_out"
	colProducts            = "products"
	colTags                = "tags"
)

// CSVColumns lists the columns a CSV import file may have, in the order
// of the documentation.
var CSVColumns = []string{colID, colName, colEmails, colPhones, colCRMID, colSegment, colValue, colLanguage,
	colConsentMarketing, colConsentProfiling, colRelationshipManager, colSMSOptOut, colProducts, colTags}

// ListSeparator separates the values of a multi-valued CSV cell
// (emails, phones, products, tags).
const ListSeparator = ";"

// utf8BOM is the byte order mark some spreadsheets write first.
const utf8BOM = "\ufeff"

// CSVReader reads profiles from CSV with a header row. It is not safe for
// concurrent use.
type CSVReader struct {
	r *csv.Reader
	// columns[i] is the column of the i-th cell of a record.
	columns []string
}

// NewCSVReader reads the header row of r and returns a reader of the rows
// after it. The header names columns of CSVColumns in any order, case and
// surrounding space ignored; "id" is required. An unknown or repeated
// column, or no header, fails: nothing should be imported from a file
// whose columns are misunderstood. A UTF-8 byte order mark is skipped;
// lines may end in CRLF.
//
// Cells are trimmed. Multi-valued cells (emails, phones, products, tags)
// hold values separated by ListSeparator, empty ones ignored. value is a
// decimal number, empty for 0. consent_marketing and consent_profiling
// are true, false, yes, no, 1 or 0 (any case), or empty for unknown;
// sms_opt_out the same, empty for false.
func NewCSVReader(r io.Reader) (*CSVReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(len(utf8BOM)); err == nil && string(b) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked per row, to report the line and go on
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, errors.New("customers: csv: the file is empty; want a header row such as " + strings.Join(CSVColumns[:4], ","))
	case err != nil:
		return nil, fmt.Errorf("customers: csv: header: %w", err)
	}
	known := make(map[string]bool, len(CSVColumns))
	for _, c := range CSVColumns {
		known[c] = true
	}
	seen := map[string]int{}
	columns := make([]string, len(header))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case !known[name]:
			return nil, fmt.Errorf("customers: csv: header: unknown column %q (column %d); valid columns: %s", h, i+1, strings.Join(CSVColumns, ", "))
		case seen[name] > 0:
			return nil, fmt.Errorf("customers: csv: header: column %q appears twice (columns %d and %d)", name, seen[name], i+1)
		}
		seen[name] = i + 1
		columns[i] = name
	}
	if seen[colID] == 0 {
		return nil, fmt.Errorf("customers: csv: header: no %q column; it is required (header: %s)", colID, strings.Join(header, ","))
	}
	return &CSVReader{r: cr, columns: columns}, nil
}

// Next returns the next row; see RowReader.
func (c *CSVReader) Next() (Row, error) {
	record, err := c.r.Read()
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return Row{}, io.EOF
	case errors.As(err, &pe):
		// A broken quote: the reader has gone past the record, maybe
		// over the lines after it (an unclosed quote runs to the end of
		// the file), which are named so that none is lost silently.
		msg := "not valid CSV: " + pe.Err.Error()
		if pe.Line > pe.StartLine {
			msg += fmt.Sprintf(" (the row runs over lines %d to %d, which are not imported)", pe.StartLine, pe.Line)
		}
		return Row{Line: pe.StartLine, Err: &FieldError{Message: msg}}, nil
	case err != nil:
		return Row{}, fmt.Errorf("customers: csv: %w", err)
	}
	line, _ := c.r.FieldPos(0)
	row := Row{Line: line}
	if len(record) != len(c.columns) {
		row.Err = &FieldError{Message: fmt.Sprintf("has %d cells; the header has %d", len(record), len(c.columns))}
		return row, nil
	}
	for i, cell := range record {
		if err := setCell(&row.Input, c.columns[i], strings.TrimSpace(cell)); err != nil {
			row.Err = err
			return row, nil
		}
	}
	return row, nil
}

// setCell sets the field of in that column holds to the cell's value.
func setCell(in *ProfileInput, column, cell string) error {
	if !utf8.ValidString(cell) {
		return fieldErrorf(column, "is not valid UTF-8; save the file as UTF-8")
	}
	var err error
	switch column {
	case colID:
		in.ID = cell
	case colName:
		in.Name = cell
	case colEmails:
		in.Emails = splitList(cell)
	case colPhones:
		in.Phones = splitList(cell)
	case colCRMID:
		in.CRMID = cell
	case colSegment:
		in.Segment = cell
	case colValue:
		in.Value, err = parseValue(cell)
	case colLanguage:
		in.Language = cell
	case colConsentMarketing:
		in.Consent.Marketing, err = parseConsent(cell)
	case colConsentProfiling:
		in.Consent.Profiling, err = parseConsent(cell)
	case colRelationshipManager:
		in.RelationshipManager = cell
	case colSMSOptOut:
		var b *bool
		if b, err = parseConsent(cell); b != nil {
			in.SMSOptOut = *b
		}
	case colProducts:
		in.Products = splitList(cell)
	case colTags:
		in.Tags = splitList(cell)
	}
	if err != nil {
		return fieldErrorf(column, "%v", err)
	}
	return nil
}

// splitList splits a multi-valued cell; empty values are dropped, and an
// empty cell is nil.
func splitList(cell string) []string {
	if cell == "" {
		return nil
	}
	var out []string
	for v := range strings.SplitSeq(cell, ListSeparator) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func parseValue(cell string) (float64, error) {
	if cell == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number; want digits with an optional decimal point, such as 1200.50", cell)
	}
	return v, nil
}

// parseConsent reads a yes/no cell; empty is nil (unknown).
func parseConsent(cell string) (*bool, error) {
	var b bool
	switch strings.ToLower(cell) {
	case "":
		return nil, nil
	case "true", "yes", "1":
		b = true
	case "false", "no", "0":
		b = false
	default:
		return nil, fmt.Errorf("%q: want true, false, yes, no, 1, 0 or empty", cell)
	}
	return &b, nil
}
