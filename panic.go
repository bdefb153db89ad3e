package warren

import "fmt"

// PanicError is a panic recovered from a handler: the panic value and the
// stack of the goroutine that panicked. It is an ordinary error for
// settlement (retried, then dead-lettered); dead-lettering writes the stack,
// bounded, to the x-exception-stacktrace header.
type PanicError struct {
	Value any
	Stack []byte
}

// Error implements error.
func (e *PanicError) Error() string { return fmt.Sprintf("warren: handler panicked: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}
