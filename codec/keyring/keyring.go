// Package keyring reads TEMPORAL_PAYLOAD_KEY into the keys it names. It
// imports nothing of Temporal, so config checks the setting when a process
// starts without building against the SDK; codec turns the keys into the
// codec that seals payloads.
package keyring

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// KeySize is AES-256's key length in bytes.
const KeySize = 32

// Key is one key of the setting: its id, written into each payload it
// seals, and its secret.
type Key struct {
	ID     string
	Secret []byte
}

// Parse reads TEMPORAL_PAYLOAD_KEY: comma-separated keys, each "id:base64"
// or a bare base64 key (its id is then derived from it), of KeySize bytes.
// The first one encrypts; all of them decrypt. Empty gives none: no
// encryption.
func Parse(spec string) ([]Key, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	var keys []Key
	seen := map[string]bool{}
	for i, item := range strings.Split(spec, ",") {
		id, encoded, named := strings.Cut(strings.TrimSpace(item), ":")
		if !named {
			id, encoded = "", id
		}
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || len(raw) != KeySize {
			return nil, fmt.Errorf("key %d: want %d bytes in standard base64 (generate one with `aimsg payload-key`)", i+1, KeySize)
		}
		if id == "" {
			sum := sha256.Sum256(raw)
			id = hex.EncodeToString(sum[:4])
		}
		if seen[id] {
			return nil, fmt.Errorf("key %d: id %q given twice", i+1, id)
		}
		seen[id] = true
		keys = append(keys, Key{ID: id, Secret: raw})
	}
	return keys, nil
}
