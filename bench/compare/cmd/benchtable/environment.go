package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warren-mq/warren/bench/benchkit"
)

// writeEnvironment says where and when the numbers were measured.
func writeEnvironment(out *bytes.Buffer, s *resultSet) {
	rounds := 0
	for _, sm := range s.byKey {
		rounds = max(rounds, len(sm.msgPerSec))
	}
	fmt.Fprintf(out, "Measured %s; %d rounds per benchmark.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), rounds)
	fmt.Fprintf(out, "- machine: %d cores (%s), %s memory, %s/%s\n",
		runtime.NumCPU(), orUnknown(s.config["cpu"]), memory(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(out, "- broker: %s on the same machine, shared with other developers' tests\n", broker())
	fmt.Fprintf(out, "- Go: %s; amqp091-go %s\n", runtime.Version(), moduleVersion("github.com/rabbitmq/amqp091-go"))
	fmt.Fprintf(out, "- alternatives: watermill-amqp %s (watermill %s), go-rabbitmq %s\n",
		moduleVersion("github.com/ThreeDotsLabs/watermill-amqp/v3"),
		moduleVersion("github.com/ThreeDotsLabs/watermill"),
		moduleVersion("github.com/wagslane/go-rabbitmq"))
	if c := commit(); c != "" {
		fmt.Fprintf(out, "- warren: commit %s\n", c)
	}
}

// memory reads MemTotal from /proc/meminfo.
func memory() string {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseFloat(fields[1], 64)
			if err == nil {
				return fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	return "unknown"
}

// broker asks the broker for its version, as it announces it on connecting.
func broker() string {
	conn, err := amqp.Dial(benchkit.URL())
	if err != nil {
		return "RabbitMQ (version unknown: " + err.Error() + ")"
	}
	defer conn.Close()
	return benchkit.BrokerVersion(conn)
}

// moduleVersion reports the version of a module this program was built
// with, from go list (the program runs with go run inside bench/compare).
func moduleVersion(path string) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", path).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// commit is the warren commit measured, if git knows it.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown CPU"
	}
	return s
}
