package main

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
)

// pairedRatios divides a's samples by b's round by round: bench/run.sh
// runs every library once per round, one after the other, so the i-th
// samples of two libraries were taken minutes apart at most, and the
// machine's drift between rounds (other tenants, the broker's state) falls
// on both. It returns nil unless both have the same number of samples,
// all of them positive: a round missing from one of them would pair
// samples of different rounds.
func pairedRatios(a, b []float64) []float64 {
	if len(a) == 0 || len(a) != len(b) {
		return nil
	}
	out := make([]float64, len(a))
	for i := range a {
		if !(a[i] > 0 && b[i] > 0) {
			return nil
		}
		out[i] = a[i] / b[i]
	}
	return out
}

// pairedCell formats the median of round-by-round ratios with their 95%
// confidence interval (with 6 to 7 rounds, the lowest and highest ratio).
// Fewer than 6 rounds give no 95% interval: the cell then shows the
// ratios' range, marked as such.
func pairedCell(ratios []float64) string {
	if len(ratios) == 0 {
		return "–"
	}
	s := summary(ratios)
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) {
		return fmt.Sprintf("%.2f× (range %.2f–%.2f)", s.Center, slices.Min(ratios), slices.Max(ratios))
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", s.Center, s.Lo, s.Hi)
}

// writePaired writes, for every scenario the focus library ran in, its
// msg/s and client CPU per message as ratios to each other library's, taken
// round by round. A target such as "≥ 0.95× raw-autoack" is met when the
// interval's low end is at or above it, missed when its high end is below,
// and undecided by the run otherwise.
func writePaired(out *bytes.Buffer, s *resultSet, focus string) {
	fmt.Fprintf(out, "\n### Paired ratios: %s against each library, round by round\n\n", focus)
	fmt.Fprintf(out, "Each round's %s figure divided by the other library's in the same round; "+
		"the median of those ratios and its 95%% confidence interval. "+
		"msg/s above 1 and CPU below 1 favour %s.\n\n", focus, focus)
	fmt.Fprintf(out, "| benchmark | scenario | against | msg/s ratio | CPU/msg ratio | rounds |\n")
	fmt.Fprintf(out, "|---|---|---|--:|--:|--:|\n")
	for _, kind := range kinds {
		first := true
		for _, sc := range s.scenarioOrder(kind) {
			mine := s.byKey[key{kind, sc, focus}]
			if mine == nil {
				continue
			}
			cell := "`" + strings.ReplaceAll(sc, "/", " ") + "`"
			for _, lib := range s.libs(kind, sc) {
				if lib == focus {
					continue
				}
				other := s.byKey[key{kind, sc, lib}]
				rates := pairedRatios(mine.msgPerSec, other.msgPerSec)
				cpu := pairedRatios(mine.cpuPerMsg, other.cpuPerMsg)
				name := ""
				if first {
					name, first = kind, false
				}
				fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %d |\n",
					name, cell, lib, pairedCell(rates), pairedCell(cpu), max(len(rates), len(cpu)))
				cell = ""
			}
		}
	}
}
