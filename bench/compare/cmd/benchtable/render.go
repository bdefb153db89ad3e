package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"golang.org/x/perf/benchmath"
)

// confidence is benchstat's default confidence level.
const confidence = 0.95

// summary is a sample's median and its confidence interval, as benchstat
// computes them (no assumption about the distribution).
func summary(values []float64) benchmath.Summary {
	sample := benchmath.NewSample(append([]float64(nil), values...), &benchmath.DefaultThresholds)
	return benchmath.AssumeNothing.Summary(sample, confidence)
}

// writeTables writes one table per benchmark kind.
func writeTables(out *bytes.Buffer, s *resultSet, focus string) {
	for _, kind := range kinds {
		scenarios := s.scenarioOrder(kind)
		if len(scenarios) == 0 {
			continue
		}
		base := baselines[kind]
		fmt.Fprintf(out, "\n### %s\n\n", titles[kind])
		fmt.Fprintf(out, "| scenario | library | msg/s (median ± 95%% CI) | ratio to %s | allocs/op | messages | note |\n", base)
		fmt.Fprintf(out, "|---|---|--:|--:|--:|--:|---|\n")
		for _, sc := range scenarios {
			medians := map[string]float64{}
			for _, lib := range s.libs(kind, sc) {
				medians[lib] = summary(s.byKey[key{kind, sc, lib}].msgPerSec).Center
			}
			for i, lib := range s.libs(kind, sc) {
				sm := s.byKey[key{kind, sc, lib}]
				rate := summary(sm.msgPerSec)
				cell := ""
				if i == 0 {
					cell = "`" + strings.ReplaceAll(sc, "/", " ") + "`"
				}
				fmt.Fprintf(out, "| %s | %s | %s ± %s | %s | %s | %s | %s |\n",
					cell, lib, thousands(rate.Center), rate.PctRangeString(),
					ratio(rate.Center, medians[base], lib == base),
					thousands(summary(sm.allocs).Center), iters(sm.iters),
					note(lib, focus, medians))
			}
		}
	}
}

// ratio formats v/base; the baseline itself is 1 by definition.
func ratio(v, base float64, isBase bool) string {
	switch {
	case isBase:
		return "1"
	case base == 0 || math.IsNaN(base):
		return "–"
	}
	return fmt.Sprintf("%.2f×", v/base)
}

// note says when the focus library is slower than an alternative (a
// library that is neither raw amqp091-go nor the focus itself).
func note(lib, focus string, medians map[string]float64) string {
	if !strings.HasPrefix(lib, focus) {
		return ""
	}
	var slower []string
	for other, m := range medians {
		if strings.HasPrefix(other, "raw") || strings.HasPrefix(other, focus) {
			continue
		}
		if m > medians[lib] {
			slower = append(slower, fmt.Sprintf("slower than %s (%.2f×)", other, medians[lib]/m))
		}
	}
	return strings.Join(slower, "; ")
}

// iters formats the message counts of a key's runs (normally all equal).
func iters(n []int) string {
	lo, hi := n[0], n[0]
	for _, v := range n {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo == hi {
		return thousands(float64(lo))
	}
	return thousands(float64(lo)) + "–" + thousands(float64(hi))
}

// thousands formats v rounded, with thin separators every three digits.
func thousands(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
