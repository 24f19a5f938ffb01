package store_test

import (
	"reflect"
	"testing"
	"time"

	"pharos/app/store"
)

// TestOpenIncidentSameSeesEveryField: changing any one field of an
// OpenIncident makes Same false, so a field added to the struct and not to
// Same fails here instead of letting the aggregator write on a stale read.
func TestOpenIncidentSameSeesEveryField(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	base := store.OpenIncident{ID: 1, OrgID: 2, PageID: 3, ComponentID: 4, CheckID: 5, Name: "API down",
		Status: "investigating", Impact: "major", StartedAt: at, AcknowledgedAt: &at, LastAlertAt: &at, AutoState: "{}"}
	again := at
	twin := base
	twin.LastAlertAt = &again
	if !base.Same(twin) {
		t.Fatal("an incident is not the same as its copy with an equal time at another address")
	}
	typ := reflect.TypeFor[store.OpenIncident]()
	for i := range typ.NumField() {
		changed := base
		f := reflect.ValueOf(&changed).Elem().Field(i)
		switch v := f.Interface().(type) {
		case int64:
			f.SetInt(v + 1)
		case string:
			f.SetString(v + "x")
		case bool:
			f.SetBool(!v)
		case time.Time:
			f.Set(reflect.ValueOf(v.Add(time.Second)))
		case *time.Time:
			f.Set(reflect.Zero(f.Type()))
		default:
			t.Fatalf("field %s of type %s: teach this test to change it", typ.Field(i).Name, f.Type())
		}
		if base.Same(changed) {
			t.Errorf("Same does not see a change of %s", typ.Field(i).Name)
		}
	}
}
