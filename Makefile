# warren: make targets. `make test` is what CI runs (.ci/run) and what the
# README gives; `make demo` runs the orders example. Both start RabbitMQ
# first if it is not running.

GO              ?= go
STATICCHECK     := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Fuzz budgets are execution counts, not durations: with a duration, Go 1.26's
# fuzz coordinator can report "context deadline exceeded" as a failure when
# the time runs out while a worker is mid-call (golang/go#75804, fixed in
# Go 1.27), with no failing input. A count has no deadline to race.
FUZZTIME        ?= 150000x
SHORTFUZZ       ?= 20000x
LONG_FUZZTIME   ?= 5000000x
# Minimizing one new input may take all of its budget (60 s by default),
# which the counts above no longer cut short. The short runs cap it; a
# minimization that runs out keeps the input as found (a failing input is
# written either way).
FUZZMINIMIZE    ?= 5s
LONG_FUZZMINIMIZE ?= 60s
FUZZ             = $(GO) test -run='^$$' -fuzzminimizetime=$(FUZZMINIMIZE)
SOAK_DURATION   ?= 10m
BENCH_COUNT     ?= 6
CLUSTER_KEEP    ?= auto
CLUSTER_TIMEOUT ?= 30m
CLUSTER_RUN     ?= .
CLUSTER_LOCK    := /tmp/warren-cluster.lock
BENCH_CLUSTER_N ?= 10000

.PHONY: all broker test test-short fuzz-short fuzz chaos stress soak bench bench-instructions demo examples deploy-check lint tidy cluster cluster-down cluster-test chaos-cluster bench-cluster

all: lint test

## broker: make sure RabbitMQ answers on 127.0.0.1:5672 (start or install it)
broker:
	@scripts/broker.sh

## test: vet, the whole suite with the race detector, the broker-wide fault
## tests on their own (broker restart; the management plugin), the bench
## table tool's tests (bench/compare/cmd), the goamqp
## interop tests (make interop-goamqp), every example (make examples), the
## deploy/ dashboard and alert rules (make deploy-check), and bounded fuzzing
test: broker
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	$(GO) test -race -count=1 -tags brokerfault -run '^TestBroker' ./adapters/rabbitmq/
	$(GO) test -race -count=1 -tags brokerfault -run '^TestBroker' ./cmd/warren/
	cd bench/compare && $(GO) test -count=1 ./cmd/...
	$(MAKE) --no-print-directory interop-goamqp
	$(MAKE) --no-print-directory examples
	$(MAKE) --no-print-directory deploy-check
	$(MAKE) --no-print-directory fuzz-short

## deploy-check: promtool check/test rules on deploy/prometheus, the Grafana
## dashboard's JSON, and every dashboard query evaluated by a real Prometheus
## scraping examples/observability (installs Debian's prometheus if missing)
deploy-check: broker
	flock -s /tmp/warren-broker.lock deploy/check.sh

## test-short: unit tests only, no broker
test-short:
	$(GO) test -short -count=1 ./...

## fuzz-short: every fuzz target briefly: the matcher $(FUZZTIME) runs each,
## the header readers, decoders and dead-letter headers $(SHORTFUZZ) each
fuzz-short:
	$(FUZZ) -fuzz='^FuzzTreeMatch$$' -fuzztime=$(FUZZTIME) .
	$(FUZZ) -fuzz='^FuzzParsePattern$$' -fuzztime=$(FUZZTIME) .
	$(FUZZ) -fuzz='^FuzzHeaderReaders$$' -fuzztime=$(SHORTFUZZ) .
	$(FUZZ) -fuzz='^FuzzFromDelivery$$' -fuzztime=$(SHORTFUZZ) .
	$(FUZZ) -fuzz='^FuzzTyped$$' -fuzztime=$(SHORTFUZZ) .
	$(FUZZ) -fuzz='^FuzzDecode$$' -fuzztime=$(SHORTFUZZ) ./middleware/
	$(FUZZ) -fuzz='^FuzzHeaders$$' -fuzztime=$(SHORTFUZZ) ./deadletter/

## fuzz: the fuzz targets for longer
fuzz:
	$(MAKE) --no-print-directory fuzz-short FUZZTIME=$(LONG_FUZZTIME) SHORTFUZZ=$(LONG_FUZZTIME) FUZZMINIMIZE=$(LONG_FUZZMINIMIZE)

## chaos: the fault scenarios, longer and louder (close_all_connections)
chaos: broker
	WARREN_CHAOS_ALL=1 $(GO) test -count=1 -v -tags brokerfault -run 'TestBroker|TestConsumerSurvives|TestGraceful|TestConsumerResumes' ./adapters/rabbitmq/

## stress: the fault-injection stress test (mixed outcomes, cuts, a stall,
## the DLQ and a wait queue deleted) with 20,000 messages; make test runs
## it with 5,000
stress: broker
	WARREN_STRESS_MESSAGES=20000 $(GO) test -count=1 -v -run TestFaultStress ./adapters/rabbitmq/

## soak: steady publish and consume for $(SOAK_DURATION) with 1% handler
## failures and a close of the soak's connections every 30 s (not in CI)
soak: broker
	$(GO) run ./internal/cmd/soak -duration $(SOAK_DURATION)

## bench: benchmarks, in-process and end-to-end against RabbitMQ
bench: broker
	$(GO) test -run='^$$' -bench=. -benchmem -count=$(BENCH_COUNT) . | tee bench/dispatch.txt
	BENCH_COUNT=$(BENCH_COUNT) bench/run.sh
	bench/table.sh

## bench-instructions: the consume target's client instructions per
## message under valgrind's callgrind (bench/callgrind.sh; installs
## Debian's valgrind if missing)
bench-instructions: broker
	command -v valgrind >/dev/null || (apt-get update -q && apt-get install -y -q valgrind)
	flock -s /tmp/warren-broker.lock bench/callgrind.sh

## demo: the orders event stream (order, stat and shipping services);
## it deletes its queues when it ends (DEMO_FLAGS=-keep leaves them)
demo: broker
	$(GO) run ./examples/orders $(DEMO_FLAGS)

## examples: run every program under examples/ to completion against the
## broker, each under a unique -prefix with a 90 s deadline, once with
## -keep and once without, and fail if one fails or leaves anything behind
examples: broker
	$(GO) test -tags examples -count=1 ./examples/

## lint: gofmt check, go vet and staticcheck at a pinned version
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

tidy:
	$(GO) mod tidy

## cluster: a 3-node RabbitMQ cluster beside the default broker
## (c1..c3@localhost, AMQP on 127.0.0.1:5681-5683); returns at once when up
cluster:
	@scripts/cluster.sh up

## cluster-down: stop the cluster's nodes and wipe their data
cluster-down:
	@scripts/cluster.sh down

## cluster-test: start the cluster and check it (3 nodes, a quorum queue
## survives its leader's node stopping); leaves the cluster up
cluster-test: cluster
	cd interop && flock -o -x $(CLUSTER_LOCK) $(GO) test -race -count=1 -tags cluster -run '^TestCluster(HasThree|QuorumQueueSurvives|Harness)' -v ./cluster/

.PHONY: interop-goamqp

## interop-goamqp: warren against a peer speaking goamqp's protocol
## (interop/goamqp, in the interop module): events both ways,
## request/reply both ways, adopting and sharing goamqp's queues, a rolling
## migration and rollback; part of `make test`
interop-goamqp: broker
	cd interop && flock -s /tmp/warren-broker.lock $(GO) test -race -count=1 ./goamqp/

## chaos-cluster: issue 13's cluster fault tests (tag cluster:
## interop/cluster: node loss, leader loss and crash, rolling restart, a
## client partitioned from its node, under 20,000-message streams, a classic
## queue whose node is down, the quorum settlement table;
## interop/clusterpartition: a partitioned fleet with a node stopped;
## adapters/rabbitmq: node loss, the leader locator), with the cluster
## to themselves (flock -x $(CLUSTER_LOCK); -o, so that nothing they start,
## a restarted node, keeps the lock). Starts the cluster if it is not
## up; stops it afterwards only if it started it (CLUSTER_KEEP=1 always
## keeps it, CLUSTER_KEEP=0 always stops it). CLUSTER_RUN picks tests.
chaos-cluster:
	@was_up=0; scripts/cluster.sh status >/dev/null 2>&1 && was_up=1; \
	flock -o -x $(CLUSTER_LOCK) scripts/cluster.sh up || exit 1; \
	start=$$(date +%s); \
	(cd interop && flock -o -x $(CLUSTER_LOCK) $(GO) test -race -count=1 -timeout $(CLUSTER_TIMEOUT) -p 1 -tags cluster -run '$(CLUSTER_RUN)' -v ./cluster/ ./clusterpartition/) && \
	flock -o -x $(CLUSTER_LOCK) $(GO) test -race -count=1 -timeout $(CLUSTER_TIMEOUT) -tags cluster -run '^TestCluster' -v ./adapters/rabbitmq/; rc=$$?; \
	echo "chaos-cluster: the cluster suite took $$(( $$(date +%s) - start )) s (exit $$rc)"; \
	case "$(CLUSTER_KEEP)" in \
	1) ;; \
	0) flock -o -x $(CLUSTER_LOCK) scripts/cluster.sh down ;; \
	*) [ $$was_up = 1 ] || flock -o -x $(CLUSTER_LOCK) scripts/cluster.sh down ;; \
	esac; \
	exit $$rc

## bench-cluster: issue 13's benchmarks: a quorum queue on the cluster and
## classic against quorum, on the cluster's node c1 and on the single
## broker, raw amqp091-go and warren side by side; $(BENCH_CLUSTER_N)
## messages, $(BENCH_COUNT) rounds, output in bench/e2e-cluster.txt
## (bench/README.md, "On the cluster")
bench-cluster: cluster broker
	flock -o -s $(CLUSTER_LOCK) flock -o -s /tmp/warren-broker.lock $(GO) test -run '^$$' -bench '^BenchmarkCluster' \
		-benchtime $(BENCH_CLUSTER_N)x -count $(BENCH_COUNT) ./bench/ | tee bench/e2e-cluster.txt
