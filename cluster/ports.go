package cluster

import (
	"fmt"
	"net"
	"strconv"
)

// serverPorts is how many ports the Temporal server takes from
// TemporalPort on: four services' gRPC and membership ports, and HTTP.
const serverPorts = 9

// PickFreePorts moves the server's ports and the workers' metrics ports
// to free ones, for a cluster that runs beside others (a test's, a
// benchmark's). They are taken in a row below Linux's ephemeral range
// (32768-60999), where no outgoing connection takes one while a process
// is down and started again on it.
func (o *Options) PickFreePorts() error {
	n := serverPorts + o.Workers
	for first := 17000; first+n < 32768; first += 16 {
		if free(first, n) {
			o.TemporalPort, o.MetricsPort = first, first+serverPorts
			return nil
		}
	}
	return fmt.Errorf("no %d free ports in a row", n)
}

func free(first, n int) bool {
	for p := first; p < first+n; p++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}
