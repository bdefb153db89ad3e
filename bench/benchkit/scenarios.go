package benchkit

// Sizes of message bodies the scenarios use.
const (
	Small = 256
	Large = 64 << 10
)

// Message counts make bench uses (go test -benchtime=<n>x; b.N is the
// number of messages). Rates depend on how deep the queue is, so every
// library runs a scenario with the same count, and scenarios are compared
// only within one set.
const (
	// TargetMessages is the count issue 3's performance targets are
	// stated on: 100,000 messages already queued (or published).
	TargetMessages = 100_000
	// SweepMessages is the count of the sweep: small enough that every
	// library runs every scenario six times within the time make bench has.
	SweepMessages = 5_000
)

// Base is the scenario the others vary from, and the consume target: one
// queue of persistent 256-byte messages, prefetch 128, a no-op handler run
// by one worker.
var Base = ConsumeScenario{Queues: 1, Prefetch: 128, Size: Small, Handler: Noop, Workers: 1}

// TargetConsumeScenarios are issue 3's consume targets (BenchmarkTarget*).
var TargetConsumeScenarios = []ConsumeScenario{Base}

// TargetPublishScenarios are issue 3's publish targets: eight goroutines
// publishing with confirms, against one goroutine pipelining on one channel.
var TargetPublishScenarios = []PublishScenario{
	{Goroutines: 1, Channels: 1, Size: Small},
	{Goroutines: 8, Channels: 1, Size: Small},
}

// ConsumeScenarios are the consume sweep every library runs, in table
// order: the base, then one change at a time.
var ConsumeScenarios = []ConsumeScenario{
	Base,
	vary(func(s *ConsumeScenario) { s.Prefetch = 1 }),
	vary(func(s *ConsumeScenario) { s.Prefetch = 16 }),
	vary(func(s *ConsumeScenario) { s.Prefetch = 512 }),
	vary(func(s *ConsumeScenario) { s.Queues = 4 }),
	vary(func(s *ConsumeScenario) { s.Size = Large }),
	vary(func(s *ConsumeScenario) { s.Handler = CPU50us }),
	vary(func(s *ConsumeScenario) { s.Handler, s.Workers = Sleep1, 16 }),
	vary(func(s *ConsumeScenario) { s.Handler, s.Workers = Sleep1, 64 }),
}

// PublishScenarios are the publish sweep every library runs.
var PublishScenarios = []PublishScenario{
	{Goroutines: 1, Channels: 1, Size: Small},
	{Goroutines: 8, Channels: 1, Size: Small},
	{Goroutines: 8, Channels: 8, Size: Small},
}

// vary returns Base changed by f.
func vary(f func(*ConsumeScenario)) ConsumeScenario {
	s := Base
	f(&s)
	return s
}
