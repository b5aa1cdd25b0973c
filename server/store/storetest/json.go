package storetest

import (
	"encoding/json"
	"reflect"
)

// jsonEqual compares two JSON documents by value: Postgres jsonb does not
// keep the writer's formatting or key order.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
