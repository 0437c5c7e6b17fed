package cluster

import "github.com/aimsg/aimsg/internal/freeport"

// serverPorts is how many ports the Temporal server takes from
// TemporalPort on: four services' gRPC and membership ports, and HTTP.
const serverPorts = 9

// maxAPIMetrics is how many APIs' metrics ports PickFreePorts keeps
// free, at least: callers may name their APIs after it.
const maxAPIMetrics = 4

// PickFreePorts moves the server's ports and the metrics ports of the
// workers and the APIs to free ones, for a cluster that runs beside
// others (a test's, a benchmark's).
func (o *Options) PickFreePorts() error {
	n := serverPorts + o.Workers + max(len(o.APIPorts), maxAPIMetrics)
	offsets := make([]int, n)
	for i := range offsets {
		offsets[i] = i
	}
	first, err := freeport.Find(offsets...)
	if err != nil {
		return err
	}
	o.TemporalPort, o.MetricsPort = first, first+serverPorts
	return nil
}
