package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// TestBinary builds the warren command and runs it as a user would, from a
// shell, with the broker in AMQP_URL.
func TestBinary(t *testing.T) {
	brokertest.Require(t)
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build warren with")
	}
	bin := filepath.Join(t.TempDir(), "warren")
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f := newFixture(t)
	f.deadLetter("m1", "Order.Created", warren.ReasonError, fmt.Errorf("db down"))

	shell := func(args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "AMQP_URL="+brokertest.URL())
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("run warren: %v", err)
		}
		t.Logf("$ warren %s\n%s", strings.Join(args, " "), out)
		return string(out), cmd.ProcessState.ExitCode()
	}

	if out, code := shell("dlq", "list", "--queue", f.queue); code != 0 || !strings.Contains(out, "m1") || !strings.Contains(out, "db down") {
		t.Errorf("dlq list: exit %d", code)
	}
	if out, code := shell("dlq", "replay", "--queue", f.queue); code != 0 || !strings.Contains(out, "replayed 1 message") {
		t.Errorf("dlq replay: exit %d", code)
	}
	if f.depthSoon(f.queue, 1) != 1 || f.depth(f.target) != 0 || f.depth(f.dlq) != 0 {
		t.Errorf("after replay: work %d target %d dlq %d, want 1, 0, 0", f.depth(f.queue), f.depth(f.target), f.depth(f.dlq))
	}
	if out, code := shell("topology", "--service", "svc", "--routes", "Order.*"); code != 0 || !strings.Contains(out, "events.topic.exchange.queue.svc.dlq") {
		t.Errorf("topology: exit %d", code)
	}
	if out, code := shell("frobnicate"); code != 2 || !strings.Contains(out, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d", code)
	}
	if out, code := shell("version"); code != 0 || !strings.HasPrefix(out, "warren ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("version: exit %d", code)
	}
	// -h goes to stdout, as --help of warren itself does.
	help := exec.Command(bin, "dlq", "list", "-h")
	var stdout, stderr strings.Builder
	help.Stdout, help.Stderr = &stdout, &stderr
	if err := help.Run(); err != nil || !strings.Contains(stdout.String(), "usage: warren dlq list") || stderr.Len() != 0 {
		t.Errorf("dlq list -h: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
	// Purge asks; with stdin not a terminal (the test's pipe) it refuses
	// without --yes.
	f.deadLetter("m2", "Order.Created", warren.ReasonError, fmt.Errorf("db down"))
	if out, code := shell("dlq", "purge", "--queue", f.queue); code != 2 || !strings.Contains(out, "--yes") || f.depth(f.dlq) != 1 {
		t.Errorf("purge without --yes: exit %d, depth %d", code, f.depth(f.dlq))
	}
	if _, code := shell("dlq", "purge", "--queue", f.queue, "--yes"); code != 0 || f.depth(f.dlq) != 0 {
		t.Errorf("purge --yes: exit %d, depth %d", code, f.depth(f.dlq))
	}
}
