package order_test

import (
	"testing"

	"github.com/google/uuid"

	"yorozu/domain/order"
)

func TestOrderIDsCarryTheirContract(t *testing.T) {
	for _, cn := range []string{"N000000001", "N123456789", "N999999999", "N000000000"} {
		for _, typ := range []order.Type{order.TypeChange, order.TypeCancel, order.TypeSimpleChange} {
			id := order.NewID("command-1", typ, cn)
			got, ok := order.CustomerNumberIn(id)
			if !ok || got != cn {
				t.Errorf("%s order of %s: id %s carries %q, %v", typ, cn, id, got, ok)
			}
			if id != order.NewID("command-1", typ, cn) {
				t.Errorf("%s order of %s: the same command names another order", typ, cn)
			}
			if id == order.NewID("command-2", typ, cn) {
				t.Errorf("%s order of %s: two commands name one order", typ, cn)
			}
		}
	}
}

func TestNewOrderIDsCarryNoContract(t *testing.T) {
	id := order.NewID("command-1", order.TypeNew, "")
	if _, ok := order.CustomerNumberIn(id); ok || id.Version() != 5 {
		t.Errorf("new order id %s (version %d) carries a customer number", id, id.Version())
	}
	for _, other := range []uuid.UUID{uuid.New(), uuid.Must(uuid.NewV7()), uuid.Nil} {
		if cn, ok := order.CustomerNumberIn(other); ok {
			t.Errorf("foreign id %s read as carrying %s", other, cn)
		}
	}
}
