package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/internal/apitest"
)

var remoteCodec = apitest.RemoteCodec

func sealed(t *testing.T, key, text string) []*commonpb.Payload {
	t.Helper()
	c, err := codec.Parse(key)
	require.NoError(t, err)
	p, err := converter.GetDefaultDataConverter().ToPayload(text)
	require.NoError(t, err)
	out, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	return out
}

func clearText(t *testing.T, p *commonpb.Payload) string {
	t.Helper()
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &s))
	return s
}

// The codec endpoint opens payloads for superusers, under every key still
// configured, and for no one else.
func TestCodecEndpointDecodesForSuperusersOnly(t *testing.T) {
	oldKey, newKey := codec.NewKey("old"), codec.NewKey("new")
	hs := newHarness(t, "sqlite:///:memory:", map[string]string{"TEMPORAL_PAYLOAD_KEY": newKey + "," + oldKey})
	base := serveOnLoopback(hs)
	root, plain := hs.superuser("root"), hs.user("plain")

	fromBefore := sealed(t, oldKey, "sealed before the rotation")
	opened, err := remoteCodec(base, root.AccessToken).Decode(fromBefore)
	require.NoError(t, err)
	assert.Equal(t, "sealed before the rotation", clearText(t, opened[0]))

	encoded, err := remoteCodec(base, root.AccessToken).Encode(opened)
	require.NoError(t, err)
	assert.Equal(t, "new", string(encoded[0].Metadata[codec.KeyIDKey]), "encode uses the first key")
	assert.NotContains(t, string(encoded[0].Data), "rotation")

	_, err = remoteCodec(base, plain.AccessToken).Decode(fromBefore)
	assert.ErrorContains(t, err, "Forbidden")
	_, err = remoteCodec(base, "").Decode(fromBefore)
	assert.ErrorContains(t, err, "Unauthorized")

	// A key no longer configured cannot be opened, and says so.
	_, err = remoteCodec(base, root.AccessToken).Decode(sealed(t, codec.NewKey("gone"), "x"))
	assert.Error(t, err)
}

// A superuser's browser gets a cookie that works for /codec alone, from
// the Web UI's origin alone, and ends with the session.
func TestCodecCookieForTheWebUI(t *testing.T) {
	key := codec.NewKey("k")
	ui := "http://temporal-ui.example.com:8233"
	hs := newHarness(t, "sqlite:///:memory:", map[string]string{"TEMPORAL_PAYLOAD_KEY": key, "TEMPORAL_CODEC_CORS_ORIGINS": ui})
	root, plain := hs.superuser("root"), hs.user("plain")

	assert.Equal(t, http.StatusForbidden, hs.call("POST", "/auth/codec-session", nil, plain.AccessToken).Code)
	w := hs.call("POST", "/auth/codec-session", nil, root.AccessToken)
	require.Equal(t, http.StatusOK, w.Code)
	cookie := w.Result().Cookies()[0]
	assert.Equal(t, "aimsg_codec", cookie.Name)
	assert.Equal(t, "/codec", cookie.Path)
	assert.True(t, cookie.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, cookie.SameSite)

	body := `{"payloads":[` + payloadJSON(t, sealed(t, key, "read in the UI")[0]) + `]}`
	withCookie := func(r *http.Request) {
		r.Header.Set("Origin", ui)
		r.Header.Set("Content-Type", "application/json")
		r.AddCookie(cookie)
	}
	w = hs.call("POST", "/codec/decode", rawJSON(body), "", withCookie)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, ui, w.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", w.Header().Get("Access-Control-Allow-Credentials"))
	assert.Contains(t, w.Body.String(), "\"data\":\""+b64(`"read in the UI"`)+"\"")

	// The cookie is no bearer token for the rest of the API.
	assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me", nil, "", withCookie).Code)

	// The UI's preflight is answered; another origin's is not.
	pre := hs.call("OPTIONS", "/codec/decode", nil, "", header("Origin", ui), header("Access-Control-Request-Method", "POST"),
		header("Access-Control-Request-Headers", "content-type,x-namespace"))
	assert.Equal(t, http.StatusNoContent, pre.Code)
	assert.Equal(t, ui, pre.Header().Get("Access-Control-Allow-Origin"))
	evil := hs.call("POST", "/codec/decode", rawJSON(body), "", withCookie, header("Origin", "https://evil.example"))
	assert.Equal(t, http.StatusForbidden, evil.Code)
	assert.Empty(t, evil.Header().Get("Access-Control-Allow-Origin"))

	// Logging out ends the cookie with the session.
	require.Equal(t, http.StatusOK, hs.call("POST", "/auth/logout", nil, root.AccessToken).Code)
	assert.Equal(t, http.StatusUnauthorized, hs.call("POST", "/codec/decode", rawJSON(body), "", withCookie).Code)
}

func payloadJSON(t *testing.T, p *commonpb.Payload) string {
	t.Helper()
	var fields []string
	for k, v := range p.Metadata {
		fields = append(fields, `"`+k+`":"`+b64(string(v))+`"`)
	}
	return `{"metadata":{` + strings.Join(fields, ",") + `},"data":"` + b64(string(p.Data)) + `"}`
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }
