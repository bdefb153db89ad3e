package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/warren-mq/warren"
	"github.com/warren-mq/warren/internal/redact"
	"github.com/warren-mq/warren/retry"
)

// describeOptions are the flags of routes and topology.
type describeOptions struct {
	file     string
	service  string
	stream   string
	routes   string
	retry    string
	quorum   bool
	asJSON   bool
	commandN string
	// topology --check
	check bool
	url   string
	mgmt  string
}

func describeFlags(name string) (*flag.FlagSet, *describeOptions) {
	o := &describeOptions{commandN: name}
	fs := flag.NewFlagSet("warren "+name, flag.ContinueOnError)
	fs.StringVar(&o.file, "file", "", "a service's description (JSON from warren.WriteDescription); - reads stdin")
	fs.StringVar(&o.service, "service", "", "without --file: the service name, for the conventional topology")
	fs.StringVar(&o.stream, "stream", "events", "without --file: the event stream (exchange <stream>.topic.exchange)")
	fs.StringVar(&o.routes, "routes", "", "without --file: comma-separated route patterns")
	fs.StringVar(&o.retry, "retry", "", "without --file: comma-separated retry delays, e.g. 5s,1m")
	fs.BoolVar(&o.quorum, "quorum", false, "without --file: quorum queues")
	fs.BoolVar(&o.asJSON, "json", false, "print JSON")
	check := ""
	if name == "topology" {
		fs.BoolVar(&o.check, "check", false, "compare with what the broker has (exit 1 on drift)")
		fs.StringVar(&o.url, "url", "", "with --check: broker `URL` (default $AMQP_URL, else "+redact.Text(defaultURL)+")")
		fs.StringVar(&o.mgmt, "management", "", "with --check: management API `URL` (default http://<broker host>:15672; off: passive declares only)")
		check = " [--check [--url U] [--management M]]"
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: warren %s (--file F | --service S --routes P1,P2 [--stream NAME] [--retry D1,D2] [--quorum]) [--json]%s\n\n", name, check)
		fmt.Fprintln(w, "Prints what a service consumes and declares: from the description the service")
		fmt.Fprintln(w, "prints (warren.WriteDescription), or computed for the event-stream convention.")
		if name == "topology" {
			fmt.Fprintln(w, "--check compares it with the broker: through the management API when the")
			fmt.Fprintln(w, "plugin is enabled (kinds, arguments, bindings too), else by passive declares")
			fmt.Fprintln(w, "(existence of exchanges and queues only).")
		}
		fmt.Fprintln(w)
		fs.PrintDefaults()
	}
	return fs, o
}

func runRoutes(_ context.Context, e *env, args []string) int {
	d, o, code := loadDescription("routes", e, args)
	if code >= 0 {
		return code
	}
	routes := byPrecedence(d.Routes)
	if o.asJSON {
		return exitStatus(e, writeJSON(e.stdout, routes))
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "PATTERN\tPRECEDENCE")
	for i, p := range routes {
		fmt.Fprintf(tw, "%s\t%d\n", p, i+1)
	}
	return exitStatus(e, tw.Flush())
}

func runTopology(ctx context.Context, e *env, argv []string) int {
	d, o, code := loadDescription("topology", e, argv)
	if code >= 0 {
		return code
	}
	if o.check {
		return checkTopology(ctx, e, d, o)
	}
	if o.asJSON {
		return exitStatus(e, writeJSON(e.stdout, d.Topology))
	}
	tw := newTable(e.stdout)
	fmt.Fprintln(tw, "EXCHANGE\tKIND\tDURABLE\tARGS")
	for _, x := range d.Topology.Exchanges {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", x.Name, orDash(x.Kind), x.Durable, args(x.Args))
	}
	if err := tw.Flush(); err != nil {
		return exitStatus(e, err)
	}
	fmt.Fprintln(e.stdout)
	tw = newTable(e.stdout)
	fmt.Fprintln(tw, "QUEUE\tTYPE\tDURABLE\tARGS")
	for _, q := range d.Topology.Queues {
		typ := string(q.Type)
		if typ == "" {
			typ = string(warren.Classic)
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", q.Name, typ, q.Durable, args(q.Args))
	}
	if err := tw.Flush(); err != nil {
		return exitStatus(e, err)
	}
	fmt.Fprintln(e.stdout)
	tw = newTable(e.stdout)
	fmt.Fprintln(tw, "EXCHANGE\tQUEUE\tKEY")
	for _, b := range d.Topology.Bindings {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", b.Exchange, b.Queue, b.Key)
	}
	return exitStatus(e, tw.Flush())
}

// loadDescription parses flags and reads or computes the description. A
// non-negative code means: return it.
func loadDescription(name string, e *env, argv []string) (warren.Description, *describeOptions, int) {
	fs, o := describeFlags(name)
	if code, ok := parse(e, fs, argv); !ok {
		return warren.Description{}, nil, code
	}
	var d warren.Description
	var err error
	switch {
	case fs.NArg() > 0:
		return d, nil, usageError(e, fs, "unexpected argument %q", fs.Arg(0))
	case o.file != "":
		d, err = readDescription(o.file)
	case o.service != "" && o.routes != "":
		var delays []time.Duration
		if delays, err = retryDelays(o.retry); err != nil {
			return d, nil, usageError(e, fs, "--retry: %v", err)
		}
		d, err = conventional(o, delays)
	default:
		return d, nil, usageError(e, fs, "--file, or --service and --routes, are required")
	}
	if err != nil {
		return d, nil, fail(e, fmt.Errorf("%s: %w", fs.Name(), err))
	}
	return d, o, -1
}

// retryDelays parses comma-separated delays and checks them as
// retry.Delays does (positive whole milliseconds, the unit of
// x-message-ttl, and at most retry.MaxWaitQueues), so that the topology
// printed is the one a consumer with that policy declares: one wait queue
// per distinct delay.
func retryDelays(list string) ([]time.Duration, error) {
	var delays []time.Duration
	for i, s := range splitList(list) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("delay %d: %w", i+1, err)
		}
		if d <= 0 || d%time.Millisecond != 0 {
			return nil, fmt.Errorf("delay %d is %v: delays must be positive whole milliseconds (x-message-ttl counts milliseconds), as retry.Delays requires", i+1, d)
		}
		delays = append(delays, d)
	}
	if len(delays) > retry.MaxWaitQueues {
		return nil, fmt.Errorf("%d delays, at most %d", len(delays), retry.MaxWaitQueues)
	}
	return retry.Delays(delays...).WaitDelays(), nil
}

func readDescription(file string) (warren.Description, error) {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return warren.Description{}, err
		}
		defer f.Close()
		r = f
	}
	var d warren.Description
	if err := json.NewDecoder(io.LimitReader(r, 16<<20)).Decode(&d); err != nil {
		return d, fmt.Errorf("read description: %w", err)
	}
	return d, nil
}

// conventional computes the topology of a consumer of the event-stream
// convention, exactly as adapters/rabbitmq declares it.
func conventional(o *describeOptions, delays []time.Duration) (warren.Description, error) {
	routes := splitList(o.routes)
	r := warren.NewRouter()
	for _, p := range routes {
		if _, err := warren.ParsePattern(p); err != nil {
			return warren.Description{}, err
		}
		r.HandleFunc(p, func(context.Context, *warren.Message) error { return nil })
	}
	ex := warren.StreamExchange(o.stream)
	q := warren.Queue{Name: warren.ServiceQueue(ex, o.service), Durable: true}
	if o.quorum {
		q.Type = warren.Quorum
	}
	t, err := warren.ConsumerTopology(warren.Exchange{Name: ex, Kind: warren.KindTopic, Durable: true}, q, r.Routes(), delays)
	if err != nil {
		return warren.Description{}, err
	}
	return warren.Describe(o.service, r, t), nil
}

// byPrecedence sorts patterns most specific first.
func byPrecedence(routes []string) []string {
	ps := make([]warren.Pattern, 0, len(routes))
	for _, r := range routes {
		if p, err := warren.ParsePattern(r); err == nil {
			ps = append(ps, p)
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Compare(ps[j]) > 0 })
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func args(t map[string]any) string {
	if len(t) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := t[k]
		if s, ok := v.(string); ok && s == "" {
			v = `""`
		}
		parts[i] = fmt.Sprintf("%s=%v", k, v)
	}
	return strings.Join(parts, " ")
}
