// Package clusterpartition runs the partitioned consumer
// (adapters/rabbitmq/partition) on the local three-node RabbitMQ cluster
// that scripts/cluster.sh starts (make cluster): a fleet with one instance
// per node over quorum partition queues, one node stopped mid-stream. Its
// tests are behind the `cluster` build tag and stop a node, so they run
// under the exclusive cluster lock:
//
//	cd interop && flock -x /tmp/warren-cluster.lock go test -tags cluster -count=1 -v ./clusterpartition/
package clusterpartition
