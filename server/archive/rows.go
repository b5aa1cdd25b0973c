package archive

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// timeLayout is how times are written: RFC 3339, UTC, always six
// fractional digits, so equal times are equal strings.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// appendRow appends row (t's columns, in order) as one JSON object line.
func appendRow(buf *bytes.Buffer, t *store.ArchiveTable, row []any) error {
	buf.WriteByte('{')
	for i, c := range t.Columns {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(strconv.Quote(c.Name)) // names are plain identifiers
		buf.WriteByte(':')
		if err := appendValue(buf, c.Type, row[i]); err != nil {
			return fmt.Errorf("%s.%s: %w", t.Name, c.Name, err)
		}
	}
	buf.WriteString("}\n")
	return nil
}

func appendValue(buf *bytes.Buffer, typ store.ArchiveType, v any) error {
	if v == nil {
		buf.WriteString("null")
		return nil
	}
	switch typ {
	case store.ArchiveInt:
		if n, ok := v.(int64); ok {
			buf.WriteString(strconv.FormatInt(n, 10))
			return nil
		}
	case store.ArchiveFloat:
		if f, ok := v.(float64); ok {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%v has no JSON form", f)
			}
			buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
			return nil
		}
	case store.ArchiveText:
		if s, ok := v.(string); ok {
			return appendJSON(buf, s)
		}
	case store.ArchiveBool:
		if b, ok := v.(bool); ok {
			buf.WriteString(strconv.FormatBool(b))
			return nil
		}
	case store.ArchiveTime:
		if t, ok := v.(time.Time); ok {
			buf.WriteByte('"')
			buf.WriteString(t.UTC().Truncate(time.Microsecond).Format(timeLayout))
			buf.WriteByte('"')
			return nil
		}
	case store.ArchiveBytes:
		if b, ok := v.([]byte); ok {
			buf.WriteByte('"')
			buf.WriteString(base64.StdEncoding.EncodeToString(b))
			buf.WriteByte('"')
			return nil
		}
	case store.ArchiveJSON:
		if raw, ok := v.(json.RawMessage); ok {
			c, err := canonicalJSON(raw)
			if err != nil {
				return err
			}
			buf.Write(c)
			return nil
		}
	}
	return fmt.Errorf("unexpected %T for archive type %d", v, typ)
}

// appendJSON appends v as JSON without a trailing newline.
func appendJSON(buf *bytes.Buffer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

// canonicalJSON compacts raw with object keys sorted, numbers kept as
// written: Postgres's jsonb and SQLite's text keep the same value in
// different spellings, and an archive spells it one way.
func canonicalJSON(raw json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("stored JSON: %w", err)
	}
	return json.Marshal(v) // maps marshal with sorted keys
}

// rowDecoder decodes the rows of one table file, whose columns the
// manifest lists, into values of the target's column types.
type rowDecoder struct {
	t     *store.ArchiveTable
	cols  []string
	types []store.ArchiveType
}

func newRowDecoder(t *store.ArchiveTable, cols []string) (*rowDecoder, error) {
	d := &rowDecoder{t: t, cols: cols}
	for _, c := range cols {
		i := t.Column(c)
		if i < 0 {
			return nil, fmt.Errorf("%w: table %s has no column %q here (an archive of a newer schema?)", ErrTooNew, t.Name, c)
		}
		d.types = append(d.types, t.Columns[i].Type)
	}
	for _, k := range t.Key {
		if !contains(cols, k) {
			return nil, fmt.Errorf("%w: table %s lacks its key column %q", ErrCorrupt, t.Name, k)
		}
	}
	return d, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decode parses one line into values in d.cols order.
func (d *rowDecoder) decode(line []byte) ([]any, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if len(obj) != len(d.cols) {
		return nil, fmt.Errorf("%d columns, the manifest lists %d", len(obj), len(d.cols))
	}
	row := make([]any, len(d.cols))
	for i, c := range d.cols {
		raw, ok := obj[c]
		if !ok {
			return nil, fmt.Errorf("column %s missing", c)
		}
		v, err := decodeValue(d.types[i], raw)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c, err)
		}
		row[i] = v
	}
	return row, nil
}

func decodeValue(typ store.ArchiveType, raw json.RawMessage) (any, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	switch typ {
	case store.ArchiveInt:
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, err
		}
		return n, nil
	case store.ArchiveFloat:
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, err
		}
		return f, nil
	case store.ArchiveText:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return s, nil
	case store.ArchiveBool:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, err
		}
		return b, nil
	case store.ArchiveTime:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, err
		}
		return t.UTC().Truncate(time.Microsecond), nil
	case store.ArchiveBytes:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return base64.StdEncoding.DecodeString(s)
	case store.ArchiveJSON:
		c, err := canonicalJSON(raw)
		if err != nil {
			return nil, err
		}
		return json.RawMessage(c), nil
	}
	return nil, fmt.Errorf("unknown archive type %d", typ)
}
