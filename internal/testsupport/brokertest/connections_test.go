package brokertest_test

import (
	"reflect"
	"testing"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

func TestConnectionPids(t *testing.T) {
	listing := "client_properties\tpid\n" +
		`[{"connection_name","warren-soak.ab12.consume"},{"product","warren"}]` + "\t<rabbit@localhost.1.2.0>\n" +
		`[{"connection_name","warren-soak.ab12.publish"}]` + "\t<rabbit@localhost.1.3.0>\n" +
		`[{"connection_name","warren-soak.ab123.consume"}]` + "\t<rabbit@localhost.1.4.0>\n" +
		`[{"connection_name","someone-else"}]` + "\t<rabbit@localhost.1.5.0>\n"
	got := brokertest.ConnectionPids(listing, "warren-soak.ab12.")
	want := []string{"<rabbit@localhost.1.2.0>", "<rabbit@localhost.1.3.0>"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pids %v, want %v", got, want)
	}
}
