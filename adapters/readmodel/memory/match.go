package memory

import (
	"fmt"
	"strings"

	"yorozu/projections/readmodel"
)

// conditions are a query's conditions, checked, with the values of Contains lower-cased.
type conditions struct {
	where, anyOf []readmodel.Cond
}

func prepare(q readmodel.Query) (conditions, error) {
	if q.OrderBy != "" && !readmodel.ValidField(q.OrderBy) {
		return conditions{}, fmt.Errorf("read model: bad order field %q", q.OrderBy)
	}
	check := func(conds []readmodel.Cond) ([]readmodel.Cond, error) {
		out := make([]readmodel.Cond, len(conds))
		for i, c := range conds {
			if !readmodel.ValidField(c.Field) {
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
	where, err := check(q.Where)
	if err != nil {
		return conditions{}, err
	}
	anyOf, err := check(q.AnyOf)
	if err != nil {
		return conditions{}, err
	}
	return conditions{where: where, anyOf: anyOf}, nil
}

// bound is a condition with the column of its field.
type bound struct {
	op     readmodel.Op
	value  string
	needle []byte // Contains: value, lower-cased
	column *column
}

// matcher tests slots of one collection against the conditions.
type matcher struct {
	where, anyOf []bound
}

func (cs conditions) bind(c *collection) *matcher {
	bind := func(conds []readmodel.Cond) []bound {
		out := make([]bound, len(conds))
		for i, cond := range conds {
			out[i] = bound{op: cond.Op, value: cond.Value, needle: []byte(cond.Value), column: c.column(cond.Field)}
		}
		return out
	}
	return &matcher{where: bind(cs.where), anyOf: bind(cs.anyOf)}
}

func (m *matcher) match(slot int) bool {
	for _, b := range m.where {
		if !b.holds(slot) {
			return false
		}
	}
	if len(m.anyOf) == 0 {
		return true
	}
	for _, b := range m.anyOf {
		if b.holds(slot) {
			return true
		}
	}
	return false
}

// holds reports whether the condition holds on a slot; an absent field satisfies none.
func (b bound) holds(slot int) bool {
	v, ok := b.column.value(slot)
	if !ok {
		return false
	}
	// string(v) in a comparison does not copy.
	switch b.op {
	case readmodel.Eq:
		return string(v) == b.value
	case readmodel.Gte:
		return string(v) >= b.value
	case readmodel.Lt:
		return string(v) < b.value
	default:
		return containsFold(v, b.needle)
	}
}
