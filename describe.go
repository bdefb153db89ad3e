package warren

import (
	"encoding/json"
	"io"
)

// Description is what a service consumes and declares: its routes and its
// topology, as JSON for tools. It is the hook behind `warren routes` and
// `warren topology`: the command line cannot look inside a running
// service, so a service prints its description (behind a flag of its own,
// say -describe) and the command renders it:
//
//	if *describe {
//		warren.WriteDescription(os.Stdout, "shipping-service", router, consumer.Topology())
//		return
//	}
//
//	$ shipping-service -describe | warren topology --file -
type Description struct {
	Service  string   `json:"service,omitempty"`
	Routes   []string `json:"routes"`
	Topology Topology `json:"topology"`
}

// Describe returns the description of a service with router's routes and
// topology t.
func Describe(service string, router *Router, t Topology) Description {
	return Description{Service: service, Routes: router.Routes(), Topology: t}
}

// WriteDescription writes Describe(service, router, t) to w as indented
// JSON.
func WriteDescription(w io.Writer, service string, router *Router, t Topology) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Describe(service, router, t))
}
