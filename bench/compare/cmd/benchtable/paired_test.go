package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchOutput writes go test -bench lines for TargetConsume, one per
// library and round, in run.sh's order (every library once per round).
func benchOutput(t *testing.T, rounds map[string][][2]float64) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("goos: linux\ngoarch: amd64\npkg: github.com/warren-mq/warren/bench\n")
	n := -1
	for _, r := range rounds {
		if n < 0 || len(r) > n {
			n = len(r)
		}
	}
	for i := range n {
		for _, lib := range []string{"raw-autoack", "warren"} {
			if i >= len(rounds[lib]) {
				continue
			}
			v := rounds[lib][i]
			fmt.Fprintf(&b, "BenchmarkTargetConsume/lib=%s/queues=1/prefetch=128/size=256/handler=noop/workers=1-2 \t 100000\t 40000 ns/op\t %g cpu-us/msg\t %g msg/s\t 2000 B/op\t 33 allocs/op\n",
				lib, v[1], v[0])
		}
	}
	path := filepath.Join(t.TempDir(), "e2e-main.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPairedRatiosFollowTheRounds: the machine's speed drifts between rounds
// by a factor of three, and warren runs at 0.9x raw-autoack's msg/s and
// 1.25x its CPU in every round. The paired ratios say exactly that, with an
// interval of zero width, where each library's own interval (its msg/s
// from 10,000 to 30,000) overlaps the other's almost entirely.
func TestPairedRatiosFollowTheRounds(t *testing.T) {
	speeds := []float64{10000, 30000, 20000, 15000, 25000, 12000}
	rounds := map[string][][2]float64{}
	for _, v := range speeds {
		rounds["raw-autoack"] = append(rounds["raw-autoack"], [2]float64{v, 1e6 / v})
		rounds["warren"] = append(rounds["warren"], [2]float64{0.9 * v, 1.25 * 1e6 / v})
	}
	set, err := readResults([]string{benchOutput(t, rounds)})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	writePaired(&out, set, "warren")
	t.Logf("\n%s", out.String())
	want := "| TargetConsume | `queues=1 prefetch=128 size=256 handler=noop workers=1` | raw-autoack | 0.90× (0.90–0.90) | 1.25× (1.25–1.25) | 6 |"
	if !strings.Contains(out.String(), want) {
		t.Errorf("paired table lacks the row\n%s", want)
	}
}

// TestPairedRatiosNeedEveryRound: a round one library lacks would pair
// samples of different rounds; the cell says there is no paired ratio.
func TestPairedRatiosNeedEveryRound(t *testing.T) {
	rounds := map[string][][2]float64{}
	for i := range 6 {
		rounds["raw-autoack"] = append(rounds["raw-autoack"], [2]float64{float64(10000 + i), 10})
		if i != 3 {
			rounds["warren"] = append(rounds["warren"], [2]float64{float64(9000 + i), 12})
		}
	}
	set, err := readResults([]string{benchOutput(t, rounds)})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	writePaired(&out, set, "warren")
	if !strings.Contains(out.String(), "| raw-autoack | – | – | 0 |") {
		t.Errorf("unpaired samples got a ratio:\n%s", out.String())
	}
}

// TestPairedCellWithFewRounds: under 6 rounds there is no 95% interval;
// the cell gives the range and says so.
func TestPairedCellWithFewRounds(t *testing.T) {
	if got, want := pairedCell([]float64{0.8, 0.9, 1.0}), "0.90× (range 0.80–1.00)"; got != want {
		t.Errorf("pairedCell = %q, want %q", got, want)
	}
	if got := pairedCell(nil); got != "–" {
		t.Errorf("pairedCell(nil) = %q, want –", got)
	}
}
