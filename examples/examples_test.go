//go:build examples

package examples

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warren-mq/warren/internal/testsupport/brokertest"
)

// deadline bounds one run of one example.
const deadline = 90 * time.Second

// extraArgs are the flags an example needs besides -prefix and -keep.
var extraArgs = map[string][]string{
	// Any free port, and no span dump.
	"observability": {"-addr", "127.0.0.1:0", "-spans=false"},
}

// TestExamples runs every program under examples/ against the broker
// (`make examples`, part of `make test`): each twice under a unique
// -prefix and a deadline, once with -keep (it must exit 0 and leave
// queues or exchanges named after the prefix, which proves it names what
// it declares that way) and once without (it must exit 0 and leave
// nothing named after the prefix).
func TestExamples(t *testing.T) {
	brokertest.Require(t)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), "./...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/...: %v\n%s", err, out)
	}
	programs, err := os.ReadDir(bin)
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := filepath.Glob("*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(programs) == 0 || len(programs) != len(dirs) {
		t.Fatalf("built %d programs from %d directories with a main.go", len(programs), len(dirs))
	}
	for _, p := range programs {
		name := p.Name()
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(bin, name)
			t.Run("keep", func(t *testing.T) {
				prefix := uniquePrefix(name)
				runExample(t, path, prefix, true)
				left := leftovers(t, prefix)
				if len(left) == 0 {
					t.Fatalf("with -keep, nothing named %s* is in the broker: the example does not name its objects after -prefix", prefix)
				}
				t.Logf("kept %v", left)
				deleteAll(t, left)
			})
			t.Run("clean", func(t *testing.T) {
				prefix := uniquePrefix(name)
				runExample(t, path, prefix, false)
				if left := leftovers(t, prefix); len(left) > 0 {
					deleteAll(t, left)
					t.Fatalf("the example left %v in the broker", left)
				}
			})
		})
	}
}

func uniquePrefix(example string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "warren-example-" + example + "-" + hex.EncodeToString(b[:])
}

// runExample runs one example to completion and fails t if it fails or
// outlives the deadline.
func runExample(t *testing.T, path, prefix string, keep bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	args := append([]string{"-prefix", prefix, "-keep=" + boolString(keep)}, extraArgs[filepath.Base(path)]...)
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "AMQP_URL="+brokertest.URL())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start).Round(time.Millisecond)
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v\n%s", filepath.Base(path), deadline, tail(out.String()))
	}
	if err != nil {
		t.Fatalf("%s %s: %v after %v\n%s", filepath.Base(path), strings.Join(args, " "), err, took, tail(out.String()))
	}
	t.Logf("%s finished in %v", filepath.Base(path), took)
}

// object is a queue or exchange left in the broker.
type object struct{ kind, name string }

func (o object) String() string { return o.kind + " " + o.name }

// leftovers lists the queues and exchanges whose names start with prefix.
func leftovers(t *testing.T, prefix string) []object {
	t.Helper()
	var left []object
	for _, kind := range []string{"queue", "exchange"} {
		out := brokertest.Rabbitmqctl(t, "list_"+kind+"s", "-q", "--no-table-headers", "name")
		for _, n := range strings.Fields(out) {
			if strings.HasPrefix(n, prefix) {
				left = append(left, object{kind, n})
			}
		}
	}
	return left
}

func deleteAll(t *testing.T, objs []object) {
	ch := brokertest.Channel(t)
	for _, o := range objs {
		var err error
		if o.kind == "queue" {
			_, err = ch.QueueDelete(o.name, false, false, false)
		} else {
			err = ch.ExchangeDelete(o.name, false, false)
		}
		if err != nil {
			t.Errorf("delete %v: %v", o, err)
			return
		}
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// tail keeps the end of an example's output for a failure message.
func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}
