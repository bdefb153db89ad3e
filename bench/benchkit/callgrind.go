package benchkit

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// CallgrindEnv names the environment variable that makes the harness count
// the instructions of each benchmark's timed interval alone, when the test
// binary runs under valgrind --tool=callgrind --instr-atstart=no: the
// harness switches callgrind's instrumentation on as the interval starts,
// off as it ends, and asks for a dump named after the benchmark, so that
// each interval is one part file (callgrind.out.<pid>.<part>). Instruction
// counts repeat for the same binary and input whatever else the machine
// does, which msg/s and CPU seconds on a shared machine do not; they count
// the client's user-space work only (not the kernel's, not the broker's).
// Run with GODEBUG=asyncpreemptoff=1 (callgrind cannot follow the Go
// runtime's preemption signals) and GOMAXPROCS=1 (valgrind runs one thread
// at a time, so idle Ps would spin for work and be counted).
const CallgrindEnv = "BENCH_CALLGRIND"

// startCallgrind switches callgrind's instrumentation on when CallgrindEnv
// is set; the returned function switches it off and dumps the interval.
func startCallgrind(b *testing.B) (stop func()) {
	if os.Getenv(CallgrindEnv) == "" {
		return func() {}
	}
	callgrindControl(b, "--zero")
	callgrindControl(b, "--instr=on")
	return func() {
		callgrindControl(b, "--instr=off")
		callgrindControl(b, "--dump="+fileName(b)+"_N-"+strconv.Itoa(b.N))
	}
}

// callgrindControl runs callgrind_control with one option against this
// process, and fails the benchmark if it cannot.
func callgrindControl(b *testing.B, option string) {
	out, err := exec.Command("callgrind_control", option, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		b.Fatalf("benchkit: callgrind_control %s: %v: %s", option, err, out)
	}
}
