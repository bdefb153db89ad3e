// Package examples holds warren's runnable programs, one per directory.
// Its test (build tag examples, run by `make examples`) runs each of them
// against the broker and checks that it leaves nothing behind.
package examples
