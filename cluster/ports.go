package cluster

import "github.com/aimsg/aimsg/internal/freeport"

// serverPorts is how many ports the Temporal server takes from
// TemporalPort on: four services' gRPC and membership ports, and HTTP.
const serverPorts = 9

// maxAPIMetrics is how many APIs' metrics ports PickFreePorts keeps
// free, at least: callers may name their APIs after it.
const maxAPIMetrics = 4

// PickFreePorts moves the server's ports, the metrics ports of the
// workers and the APIs and the Web UI's port (if any) to free ones, for a cluster that runs beside
// others (a test's, a benchmark's).
func (o *Options) PickFreePorts() error {
	n := serverPorts + o.Workers + max(len(o.APIPorts), maxAPIMetrics)
	if o.UIPort != 0 {
		n++
	}
	offsets := make([]int, n)
	for i := range offsets {
		offsets[i] = i
	}
	first, err := freeport.Find(offsets...)
	if err != nil {
		return err
	}
	o.TemporalPort, o.MetricsPort = first, first+serverPorts
	if o.UIPort != 0 {
		o.UIPort = first + n - 1
	}
	return nil
}
