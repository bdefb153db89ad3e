// Package cluster checks the local three-node RabbitMQ cluster that
// scripts/cluster.sh starts (make cluster). Its tests are behind the
// `cluster` build tag; run them with make cluster-test.
package cluster
