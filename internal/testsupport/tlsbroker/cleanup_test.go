package tlsbroker

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// The listener is the broker's while the test runs; when the test ends
// the broker no longer lists it, nothing listens on its port, and the
// certificate files are gone.
func TestCleanupStopsTheListenerAndRemovesTheFiles(t *testing.T) {
	var port int
	var dir string
	t.Run("test using the listener", func(t *testing.T) {
		b := Start(t)
		port, dir = b.Port(), b.dir
		assertRunning(t, port, dir)
	})
	assertGone(t, port, dir)
}

// helperEnv makes TestCleanupRunsWhenTheTestFails, run as a child
// process, start a listener and fail.
const helperEnv = "TLSBROKER_FAILING_CHILD"

// A test that fails right after Start (t.Fatal) still leaves the broker
// without the listener and the disk without the files. The failing test is
// this test run again in a child process.
func TestCleanupRunsWhenTheTestFails(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		b := Start(t)
		t.Logf("CHILD port=%d dir=%s", b.Port(), b.dir)
		t.Fatal("failing on purpose after Start")
	}
	if testing.Short() {
		t.Skip("integration test: needs RabbitMQ and rabbitmqctl (run without -short)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCleanupRunsWhenTheTestFails$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child test: %v, want it to fail\n%s", err, out)
	}
	m := regexp.MustCompile(`CHILD port=(\d+) dir=(\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child test did not start a listener:\n%s", out)
	}
	port, _ := strconv.Atoi(string(m[1]))
	t.Logf("child failed as planned on port %d (exit %d)", port, exit.ExitCode())
	assertGone(t, port, string(m[2]))
}

func assertRunning(t *testing.T, port int, dir string) {
	t.Helper()
	listed, err := listenerListed(context.Background(), port)
	if err != nil {
		t.Fatal(err)
	}
	if !listed {
		t.Errorf("the broker does not list a listener on port %d", port)
	}
	if refusesTCP(port) {
		t.Errorf("nothing accepts connections on port %d", port)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("certificate files: %v", err)
	}
}

func assertGone(t *testing.T, port int, dir string) {
	t.Helper()
	listed, err := listenerListed(context.Background(), port)
	if err != nil {
		t.Fatal(err)
	}
	if listed {
		t.Errorf("after cleanup the broker still lists a listener on port %d", port)
	}
	if !refusesTCP(port) {
		t.Errorf("after cleanup port %d still accepts connections", port)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after cleanup the certificate files remain: stat %s: %v", dir, err)
	}
}

// refusesTCP reports whether nothing accepts TCP connections on port.
func refusesTCP(port int) bool {
	conn, err := net.DialTimeout("tcp", addr(port), time.Second)
	if err == nil {
		_ = conn.Close()
		return false
	}
	return true
}
