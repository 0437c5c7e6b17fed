// Package sse reads server-sent event streams, for the tests, the
// benchmark and `aimsg eval`, which follow aimsg's event streams as a
// client does.
package sse

import (
	"bufio"
	"io"
	"strings"
)

// Event is one event of a stream: its id, its name and its data.
type Event struct {
	ID, Name string
	Data     []byte
}

// Read calls on for each named event of r until r ends; comments and
// the retry field are skipped.
func Read(r io.Reader, on func(Event)) error {
	sc := bufio.NewScanner(r)
	var ev Event
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Name != "" {
				on(ev)
			}
			ev = Event{}
		case strings.HasPrefix(line, "id: "):
			ev.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			ev.Name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.Data = []byte(strings.TrimPrefix(line, "data: "))
		}
	}
	return sc.Err()
}
