// Package codec encrypts what aimsg gives Temporal to store: workflow and
// activity inputs and results, signals, memos and failure messages hold
// people's messages, and the Temporal server (its database, its backups,
// its operators) should see none of it in clear. Payloads are sealed with
// AES-256-GCM under a key named in each payload, so keys can rotate:
// new payloads use the first key, old ones decode with any key still
// configured.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/aimsg/aimsg/codec/keyring"
)

// The metadata of an encrypted payload.
const (
	// Encoding marks a payload this codec sealed.
	Encoding = "binary/encrypted"
	// KeyIDKey names the key that sealed it.
	KeyIDKey = "encryption-key-id"
)

// Codec seals and opens payloads; it implements converter.PayloadCodec.
type Codec struct {
	current string
	keys    map[string]cipher.AEAD
}

// ErrUnknownKey is a payload sealed with a key no longer configured.
var ErrUnknownKey = errors.New("payload encrypted with a key that is not configured")

// Parse reads TEMPORAL_PAYLOAD_KEY (see keyring.Parse) into a codec: the
// first key encrypts; all of them decrypt. Empty gives nil: no encryption.
func Parse(spec string) (*Codec, error) {
	keys, err := keyring.Parse(spec)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	c := &Codec{current: keys[0].ID, keys: map[string]cipher.AEAD{}}
	for i, k := range keys {
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if c.keys[k.ID], err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
	}
	return c, nil
}

// NewKey is a fresh random key in the form Parse reads, named id.
func NewKey(id string) string {
	raw := make([]byte, keyring.KeySize)
	_, _ = rand.Read(raw) // never fails (crypto/rand)
	return id + ":" + base64.StdEncoding.EncodeToString(raw)
}

// KeyID is the id of the key new payloads are sealed with.
func (c *Codec) KeyID() string { return c.current }

// Encode seals each payload, whole (metadata and data), under the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.keys[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		_, _ = rand.Read(nonce)
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				KeyIDKey:                   []byte(c.current),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(c.current)),
		}
	}
	return out, nil
}

// Decode opens the payloads this codec sealed and passes the others
// through unchanged (those written before encryption was turned on).
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.Metadata[KeyIDKey])
		aead, ok := c.keys[id]
		if !ok {
			return nil, fmt.Errorf("decode payload: %w (%q)", ErrUnknownKey, id)
		}
		if len(p.Data) < aead.NonceSize() {
			return nil, errors.New("decode payload: too short")
		}
		nonce, sealed := p.Data[:aead.NonceSize()], p.Data[aead.NonceSize():]
		plain, err := aead.Open(nil, nonce, sealed, []byte(id))
		if err != nil {
			return nil, fmt.Errorf("decode payload with key %q: %w", id, err)
		}
		out[i] = new(commonpb.Payload)
		if err := proto.Unmarshal(plain, out[i]); err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
	}
	return out, nil
}

// Use makes a Temporal client's payloads, and its failures' messages and
// stack traces (they can quote a message too), sealed with c; nil c leaves
// them in clear.
func Use(o *client.Options, c *Codec) {
	if c == nil {
		return
	}
	o.DataConverter = DataConverter(c)
	o.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: o.DataConverter, EncodeCommonAttributes: true})
}

// DataConverter reads and writes payloads sealed with c (in clear when c
// is nil), for code that reads histories itself.
func DataConverter(c *Codec) converter.DataConverter {
	if c == nil {
		return converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}
