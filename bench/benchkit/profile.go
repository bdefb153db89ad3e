package benchkit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
)

// ProfileDirEnv names the environment variable that makes the harness
// write a CPU profile of each benchmark's timed interval alone (the drain
// or the publishing, not the fill, the setup or the checks) to
// <dir>/<benchmark name>.<round>.prof (round counts the -count rounds
// from 1), for go tool pprof to merge. go test -cpuprofile profiles the whole
// process, fills included, which buries a library's own cost.
const ProfileDirEnv = "BENCH_CPUPROFILE_DIR"

// startProfile starts the timed interval's CPU profile when ProfileDirEnv
// is set; the returned function stops it. A profile that cannot be
// written fails the benchmark.
func startProfile(b *testing.B) (stop func()) {
	dir := os.Getenv(ProfileDirEnv)
	if dir == "" {
		return func() {}
	}
	name := fileName(b)
	var f *os.File
	var err error
	for round := 1; ; round++ {
		f, err = os.OpenFile(filepath.Join(dir, fmt.Sprintf("%s.%d.prof", name, round)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		b.Fatalf("benchkit: cpu profile: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		b.Fatalf("benchkit: cpu profile: %v (is go test's -cpuprofile set too?)", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Errorf("benchkit: cpu profile: %v", err)
		}
	}
}

// fileName is b's name made fit for a file name (and for a callgrind dump
// description): "/" becomes "_", "=" becomes "-" and a space "_".
func fileName(b *testing.B) string {
	return strings.NewReplacer("/", "_", "=", "-", " ", "_").Replace(b.Name())
}
