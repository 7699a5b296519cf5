package memory

import (
	"fmt"
	"strings"

	"yorozu/projections/readmodel"
)

// matcher is a query's conditions, checked once and prepared for the scan.
type matcher struct {
	where, anyOf []readmodel.Cond // Contains values already lower-cased
}

func newMatcher(q readmodel.Query) (*matcher, error) {
	if q.OrderBy != "" && !validField(q.OrderBy) {
		return nil, fmt.Errorf("read model: bad order field %q", q.OrderBy)
	}
	prepare := func(conds []readmodel.Cond) ([]readmodel.Cond, error) {
		out := make([]readmodel.Cond, len(conds))
		for i, c := range conds {
			if !validField(c.Field) {
				return nil, fmt.Errorf("read model: bad condition field %q", c.Field)
			}
			switch c.Op {
			case readmodel.Eq, readmodel.Gte, readmodel.Lt:
			case readmodel.Contains:
				c.Value = strings.ToLower(c.Value)
			default:
				return nil, fmt.Errorf("read model: unknown operator %d on %q", c.Op, c.Field)
			}
			out[i] = c
		}
		return out, nil
	}
	where, err := prepare(q.Where)
	if err != nil {
		return nil, err
	}
	anyOf, err := prepare(q.AnyOf)
	if err != nil {
		return nil, err
	}
	return &matcher{where: where, anyOf: anyOf}, nil
}

func (m *matcher) match(d *doc) bool {
	for _, c := range m.where {
		if !holds(d, c) {
			return false
		}
	}
	if len(m.anyOf) == 0 {
		return true
	}
	for _, c := range m.anyOf {
		if holds(d, c) {
			return true
		}
	}
	return false
}

// holds reports whether the condition holds on the document; an absent field satisfies none.
func holds(d *doc, c readmodel.Cond) bool {
	v, ok := d.field(c.Field)
	if !ok {
		return false
	}
	switch c.Op {
	case readmodel.Eq:
		return v == c.Value
	case readmodel.Gte:
		return v >= c.Value
	case readmodel.Lt:
		return v < c.Value
	default:
		return containsFold(v, c.Value)
	}
}

// validField accepts the names read models use for their fields: a letter or underscore, then
// letters, digits and underscores. Both adapters refuse anything else, so a query that works on
// one works on the other.
func validField(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
