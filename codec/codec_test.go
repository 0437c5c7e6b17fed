package codec_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/aimsg/aimsg/codec"
)

func payloadOf(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

func TestSealedPayloadsHideTheirContentAndOpenAgain(t *testing.T) {
	c, err := codec.Parse(codec.NewKey("k1"))
	require.NoError(t, err)
	plain := payloadOf(t, map[string]string{"content": "my secret message"})
	sealed, err := c.Encode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	require.Len(t, sealed, 1)
	assert.NotContains(t, string(sealed[0].Data), "secret")
	assert.Equal(t, codec.Encoding, string(sealed[0].Metadata[converter.MetadataEncoding]))
	assert.Equal(t, "k1", string(sealed[0].Metadata[codec.KeyIDKey]))
	assert.NotContains(t, sealed[0].Metadata, "json/plain", "the inner encoding is sealed too")

	again, err := c.Encode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	assert.NotEqual(t, sealed[0].Data, again[0].Data, "a fresh nonce each time")

	opened, err := c.Decode(sealed)
	require.NoError(t, err)
	var got map[string]string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(opened[0], &got))
	assert.Equal(t, "my secret message", got["content"])
}

func TestRotatedKeysStillOpenOldPayloads(t *testing.T) {
	oldKey, newKey := codec.NewKey("2026-01"), codec.NewKey("2026-06")
	old, err := codec.Parse(oldKey)
	require.NoError(t, err)
	sealed, err := old.Encode([]*commonpb.Payload{payloadOf(t, "before rotation")})
	require.NoError(t, err)

	rotated, err := codec.Parse(newKey + "," + oldKey)
	require.NoError(t, err)
	assert.Equal(t, "2026-06", rotated.KeyID())
	opened, err := rotated.Decode(sealed)
	require.NoError(t, err)
	var got string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(opened[0], &got))
	assert.Equal(t, "before rotation", got)

	fresh, err := rotated.Encode([]*commonpb.Payload{payloadOf(t, "after")})
	require.NoError(t, err)
	assert.Equal(t, "2026-06", string(fresh[0].Metadata[codec.KeyIDKey]))

	// Once the old key is dropped, its payloads no longer open.
	onlyNew, err := codec.Parse(newKey)
	require.NoError(t, err)
	_, err = onlyNew.Decode(sealed)
	assert.ErrorIs(t, err, codec.ErrUnknownKey)
}

func TestTamperedOrForeignPayloads(t *testing.T) {
	c, err := codec.Parse(codec.NewKey("k"))
	require.NoError(t, err)
	sealed, err := c.Encode([]*commonpb.Payload{payloadOf(t, "x")})
	require.NoError(t, err)
	sealed[0].Data[len(sealed[0].Data)-1] ^= 1
	_, err = c.Decode(sealed)
	assert.Error(t, err, "a changed byte fails authentication")

	// Another key under the same id does not open it either.
	other, err := codec.Parse(codec.NewKey("k"))
	require.NoError(t, err)
	sealed, err = c.Encode([]*commonpb.Payload{payloadOf(t, "x")})
	require.NoError(t, err)
	_, err = other.Decode(sealed)
	assert.Error(t, err)

	// Payloads from before encryption pass through.
	plain := payloadOf(t, "clear")
	opened, err := c.Decode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	assert.Same(t, plain, opened[0])
}

func TestParse(t *testing.T) {
	c, err := codec.Parse("")
	require.NoError(t, err)
	assert.Nil(t, c, "no key, no encryption")

	bare := codec.NewKey("x")[2:]
	c, err = codec.Parse(bare)
	require.NoError(t, err)
	assert.Len(t, c.KeyID(), 8, "a bare key gets an id derived from it")
	c2, err := codec.Parse(bare)
	require.NoError(t, err)
	assert.Equal(t, c.KeyID(), c2.KeyID())

	for _, bad := range []string{"k:short", "k:not base64!", "a:" + bare + ",a:" + bare} {
		_, err := codec.Parse(bad)
		assert.Error(t, err, bad)
	}
}
