package events

import (
	"errors"
	"testing"
)

type snapshotter struct{}

func (snapshotter) Snapshot(Store) error { return nil }

// TestStoreBackupIsRefused: go-micro's Backup has no equivalent here, so
// setting it is an error at NewStore, not an option silently ignored.
func TestStoreBackupIsRefused(t *testing.T) {
	withBackup := func(o *StoreOptions) { o.Backup = snapshotter{} }
	st, err := NewStore(nil, withBackup)
	if !errors.Is(err, ErrUnsupported) || !errors.Is(err, errors.ErrUnsupported) || st != nil {
		t.Fatalf("NewStore with a Backup: %v, %v; want ErrUnsupported", st, err)
	}
}

// TestPackageFunctionsNeedDefaults: the package-level functions report
// unset defaults instead of panicking on a nil interface.
func TestPackageFunctionsNeedDefaults(t *testing.T) {
	if DefaultStream != nil || DefaultStore != nil {
		t.Skip("another test set the defaults")
	}
	if err := Publish("t", 1); !errors.Is(err, ErrNoDefault) {
		t.Errorf("Publish: %v", err)
	}
	if _, err := Consume("t"); !errors.Is(err, ErrNoDefault) {
		t.Errorf("Consume: %v", err)
	}
	if _, err := Read("t"); !errors.Is(err, ErrNoDefault) {
		t.Errorf("Read: %v", err)
	}
	if err := Write(&Event{Topic: "t"}); !errors.Is(err, ErrNoDefault) {
		t.Errorf("Write: %v", err)
	}
}

// TestOptionsDefaults: ConsumeOptions.GetRetryLimit is -1 until
// WithRetryLimit, and the zero Event settles to nil.
func TestOptionsDefaults(t *testing.T) {
	var o ConsumeOptions
	if o.GetRetryLimit() != -1 {
		t.Fatalf("GetRetryLimit of zero options: %d", o.GetRetryLimit())
	}
	WithRetryLimit(0)(&o)
	if o.GetRetryLimit() != 0 || !o.CustomRetries {
		t.Fatalf("after WithRetryLimit(0): %+v", o)
	}
	var ev Event
	if ev.Ack() != nil || ev.Nack() != nil {
		t.Fatal("a zero Event's Ack or Nack failed")
	}
}
