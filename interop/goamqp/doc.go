// Package goamqp is a peer that speaks goamqp's protocol
// (github.com/sparetimecoders/goamqp) over amqp091-go, for testing warren
// against it: the same declarations, headers, JSON bodies, acks and reply
// addressing, written from the facts in PROTOCOL.md, not from goamqp's code
// (which the module proxy does not serve here).
//
// A Peer is one goamqp service: Dial it with its service name, register
// what it publishes and consumes, Start it, Close it.
package goamqp
