package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/router"
	"go.yaml.in/yaml/v3"
)

// maxNodes caps how many YAML nodes one Parse decodes, counting each use
// of an alias anew, so that a small file of nested aliases cannot make it
// do unbounded work. A real configuration has a few thousand at most.
const maxNodes = 100_000

// Load reads the configuration file at path; see Parse.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: read: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a configuration from data. Name is the file's name, used in
// error messages. Fields the file leaves out (or leaves empty) keep their
// defaults (see Default); a map such as routing.capacity is merged with the
// defaults key by key. Unknown fields, values of the wrong type and
// everything Validate rejects are errors naming the file, line, column and
// field.
func Parse(name string, data []byte) (*Config, error) {
	src := &source{file: name, at: map[string]pos{}}
	root, err := parseDocument(name, data)
	if err != nil {
		return nil, err
	}
	c := Default()
	c.Store.Path = "" // its default depends on data_dir
	if root != nil {
		d := &decoder{src: src, budget: maxNodes, active: map[*yaml.Node]bool{}}
		d.decode(root, reflect.ValueOf(c).Elem(), "")
		if err := d.errs.err(); err != nil {
			return nil, err
		}
	}
	c.src = src
	c.applyEnv()
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// yamlLine matches yaml.v3's syntax errors, "yaml: line 3: did not find
// expected key".
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument parses data into a node tree and returns the document's
// root, nil for an empty document.
func parseDocument(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(name, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &Error{File: name, Line: extra.Line, Column: extra.Column,
			Msg: "a second YAML document (want one document; remove the \"---\")"}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// syntaxError turns a yaml.v3 parse error into an *Error.
func syntaxError(name string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: name, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// pos is a place in a file; 1-based, 0 when unknown.
type pos struct{ line, col int }

// source remembers where the fields of a parsed file were.
type source struct {
	file string
	// at maps a field path ("queues[1].strategy") to its value's place.
	at map[string]pos
}

// where returns the place of the field at path or, failing that, of the
// nearest enclosing field that the file has.
func (s *source) where(path string) pos {
	for {
		if p, ok := s.at[path]; ok {
			return p
		}
		if path == "" {
			return pos{}
		}
		path = parentPath(path)
	}
}

// parentPath strips the last element from a field path.
func parentPath(path string) string {
	if strings.HasSuffix(path, "\"]") {
		if i := strings.LastIndex(path, "[\""); i >= 0 {
			return path[:i]
		}
	}
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// fieldPath appends a field or map key to a path, as the router's
// errors and the HTTP API spell it (router.KeyPath: skills.billing,
// capacity["web chat"]).
func fieldPath(path, key string) string { return router.KeyPath(path, key) }

// indexPath appends a list index to a path.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// decoder walks a yaml.Node tree into a Go value by reflection, like
// yaml.v3's own decoder with KnownFields, but recording where each field
// was and reporting errors with their line, column and field.
type decoder struct {
	src  *source
	errs errorList
	// budget is how many more nodes may be decoded.
	budget int
	// active holds the anchored nodes being decoded through an alias, to
	// catch an alias inside its own anchor.
	active map[*yaml.Node]bool
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs.add(&Error{File: d.src.file, Line: n.Line, Column: n.Column, Field: path,
		Msg: fmt.Sprintf(format, args...)})
}

// spend takes one node from the budget, reporting false (and an error,
// once) when none is left.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	d.budget--
	if d.budget == -1 {
		d.fail(n, path, "document too large (more than %d values, counting each use of an alias)", maxNodes)
	}
	return d.budget >= 0
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// decode stores n into v, a settable value, at path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if d.errs.full() {
		return
	}
	if !d.spend(n, path) {
		return
	}
	if n.Kind == yaml.AliasNode {
		if d.active[n.Alias] || n.Alias == nil {
			d.fail(n, path, "alias *%s refers to a value that contains it", n.Value)
			return
		}
		d.active[n.Alias] = true
		d.decode(n.Alias, v, path)
		delete(d.active, n.Alias)
		return
	}
	d.src.at[path] = pos{n.Line, n.Column}
	if isNull(n) {
		return // keep the default
	}
	if reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want %s, got %s", describeType(v.Type()), describeNode(n))
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.fail(n, path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	default:
		d.decodeScalar(n, v, path)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want %s, got %s", describeType(v.Type()), describeNode(n))
		return
	}
	fields := structFields(v.Type())
	for _, p := range d.pairs(n, path) {
		i, ok := fields.index[p.name]
		if !ok {
			d.fail(p.key, path, "unknown field %q (%s)", p.name, suggest(p.name, fields.names))
			continue
		}
		d.decode(p.val, v.FieldByIndex(i), fieldPath(path, p.name))
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want %s, got %s", describeType(v.Type()), describeNode(n))
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		panic("config: map keys must be strings: " + t.String())
	}
	for _, p := range d.pairs(n, path) {
		if isNull(deref(p.val)) {
			continue // keep the default, if any
		}
		elem := reflect.New(t.Elem()).Elem()
		d.decode(p.val, elem, fieldPath(path, p.name))
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		v.SetMapIndex(reflect.ValueOf(p.name).Convert(t.Key()), elem)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want %s, got %s", describeType(v.Type()), describeNode(n))
		return
	}
	if len(n.Content) == 0 {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		d.decode(e, s.Index(i), indexPath(path, i))
	}
	v.Set(s)
}

func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want %s, got %s", describeType(v.Type()), describeNode(n))
		return
	}
	if v.Kind() == reflect.String {
		v.SetString(n.Value)
		return
	}
	var x any
	if err := n.Decode(&x); err != nil {
		d.fail(n, path, "want %s, got %s", describeType(v.Type()), describeNode(n))
		return
	}
	ok := false
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		i, ok = toInt(x)
		if ok && v.OverflowInt(i) {
			d.fail(n, path, "%s is out of range", n.Value)
			return
		}
		if ok {
			v.SetInt(i)
		}
	case reflect.Float32, reflect.Float64:
		var f float64
		f, ok = toFloat(x)
		if ok {
			v.SetFloat(f)
		}
	case reflect.Bool:
		var b bool
		b, ok = x.(bool)
		if ok {
			v.SetBool(b)
		}
	default:
		panic("config: cannot decode into " + v.Type().String())
	}
	if !ok {
		d.fail(n, path, "want %s, got %s", describeType(v.Type()), describeNode(n))
	}
}

// toInt converts a resolved YAML scalar to a whole number.
func toInt(x any) (int64, bool) {
	switch x := x.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		return int64(x), x <= math.MaxInt64
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

// toFloat converts a resolved YAML scalar to a number.
func toFloat(x any) (float64, bool) {
	switch x := x.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// pair is one entry of a mapping, merge keys resolved.
type pair struct {
	name     string
	key, val *yaml.Node
}

// pairs returns the entries of the mapping n. Entries from merge keys
// ("<<: *base") come first, each overridden by an explicit entry of the
// same name; explicit entries may not repeat.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var explicit, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(val, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.fail(n.Content[i], path, "want a field name, got %s", describeNode(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(n.Content[i], path, "field %q appears twice (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = n.Content[i]
		explicit = append(explicit, pair{k.Value, n.Content[i], val})
	}
	var out []pair
	for _, p := range merged {
		if seen[p.name] == nil {
			seen[p.name] = p.key
			out = append(out, p)
		}
	}
	return append(out, explicit...)
}

// merge returns the entries that a merge key's value brings: one mapping
// or a list of them, the earlier winning.
func (d *decoder) merge(val *yaml.Node, path string) []pair {
	if !d.spend(val, path) || d.errs.full() {
		return nil
	}
	var maps []*yaml.Node
	switch v := deref(val); v.Kind {
	case yaml.MappingNode:
		maps = []*yaml.Node{val}
	case yaml.SequenceNode:
		maps = v.Content
	default:
		d.fail(val, path, "want a mapping or a list of mappings after \"<<\", got %s", describeNode(v))
		return nil
	}
	var out []pair
	for _, m := range maps {
		if m.Kind == yaml.AliasNode {
			if d.active[m.Alias] || m.Alias == nil {
				d.fail(m, path, "alias *%s refers to a value that contains it", m.Value)
				continue
			}
			d.active[m.Alias] = true
			out = append(out, d.mergeOne(m.Alias, path)...)
			delete(d.active, m.Alias)
			continue
		}
		out = append(out, d.mergeOne(m, path)...)
	}
	return out
}

func (d *decoder) mergeOne(m *yaml.Node, path string) []pair {
	if m.Kind != yaml.MappingNode {
		d.fail(m, path, "want a mapping after \"<<\", got %s", describeNode(m))
		return nil
	}
	return d.pairs(m, path)
}

// deref follows an alias to its anchored node; cycles are caught by the
// decoder.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil && n.Alias.Kind != yaml.AliasNode {
		return n.Alias
	}
	return n
}

// isNull reports whether n is a null scalar ("~", "null" or nothing).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describeNode says what a node is, for "want X, got Y".
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	}
	return "nothing"
}

// describeType says what a field wants, for "want X, got Y".
func describeType(t reflect.Type) string {
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return `a duration such as "20s" or "2m"`
	}
	switch t.Kind() {
	case reflect.Struct:
		return "a mapping of fields (" + strings.Join(structFields(t).names, ", ") + ")"
	case reflect.Map:
		return "a mapping of names to " + plural(describeType(t.Elem()))
	case reflect.Slice:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return t.String()
}

func plural(s string) string {
	switch {
	case strings.HasPrefix(s, "a duration"):
		return "durations"
	case strings.HasPrefix(s, "a whole number"):
		return "whole numbers"
	}
	return s
}

// fieldSet is the YAML fields of a struct type.
type fieldSet struct {
	// index is each field's index path (reflect.Value.FieldByIndex):
	// a field of an inline struct is reached through it.
	index map[string][]int
	names []string // in declaration order
}

// structFields reads the yaml tags of t's exported fields. The fields of
// an embedded struct tagged ",inline" are read as t's own, as yaml.v3
// does (MailServer in Mailbox and SMTP).
func structFields(t reflect.Type) fieldSet {
	fs := fieldSet{index: map[string][]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && opts == "inline" && f.Type.Kind() == reflect.Struct {
			inner := structFields(f.Type)
			for _, n := range inner.names {
				fs.index[n] = append([]int{i}, inner.index[n]...)
				fs.names = append(fs.names, n)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fs.index[name] = []int{i}
		fs.names = append(fs.names, name)
	}
	return fs
}

// suggest returns "did you mean "x"?" for the valid name closest to name,
// or the list of valid names when none is close.
func suggest(name string, valid []string) string {
	best, bestDist := "", math.MaxInt
	norm := normalize(name)
	for _, v := range valid {
		if normalize(v) == norm {
			return fmt.Sprintf("did you mean %q?", v)
		}
		if dist := levenshtein(strings.ToLower(name), v); dist < bestDist {
			best, bestDist = v, dist
		}
	}
	limit := 2
	if len(name) <= 4 {
		limit = 1
	}
	if best != "" && bestDist <= limit {
		return fmt.Sprintf("did you mean %q?", best)
	}
	sorted := append([]string(nil), valid...)
	sort.Strings(sorted)
	return "want one of " + strings.Join(sorted, ", ")
}

// normalize folds case and drops "_", "-" and spaces, so that "dataDir",
// "data-dir" and "data_dir" compare equal.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', ' ':
			return -1
		}
		return r
	}, strings.ToLower(s))
}

// levenshtein returns the edit distance between a and b, by bytes.
func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt // not a typo worth suggesting for
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
