package api

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// The codec endpoint lets operators read encrypted workflow payloads: the
// Temporal Web UI (its "codec server" setting) and CLI (--codec-endpoint)
// post payloads to /codec/decode and get them back in clear. Superusers
// only, by bearer token (the CLI's --codec-auth) or by the codec cookie a
// superuser's browser gets from POST /auth/codec-session (the Web UI
// sends it with "include cross-origin credentials").
const (
	codecPath   = "/codec"
	codecCookie = "aimsg_codec"
)

// codecEndpoint answers /codec/encode and /codec/decode with Temporal's
// remote-codec protocol: {"payloads": [...]} in protobuf JSON, both ways.
// Without a payload key both give the payloads back unchanged.
func (s *Server) codecEndpoint(encode bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			s.fail(c, err)
			return
		}
		var in commonpb.Payloads
		if err := protojson.Unmarshal(body, &in); err != nil {
			invalidInput(c, bodyError("payloads", "Input should be Temporal payloads in protobuf JSON", "value_error"))
			return
		}
		out := in.Payloads
		if s.payloads != nil {
			if encode {
				out, err = s.payloads.Encode(in.Payloads)
			} else {
				out, err = s.payloads.Decode(in.Payloads)
			}
		}
		if err != nil {
			abort(c, http.StatusBadRequest, "Payloads could not be decoded: "+err.Error())
			return
		}
		b, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
		if err != nil {
			s.fail(c, fmt.Errorf("encode payloads: %w", err))
			return
		}
		c.Data(http.StatusOK, "application/json", b)
	}
}

// codecCookieAuth lets the codec cookie stand for the Authorization
// header a browser cannot add to the Web UI's requests.
func codecCookieAuth(c *gin.Context) {
	if c.GetHeader("Authorization") == "" {
		if token, err := c.Cookie(codecCookie); err == nil && token != "" {
			c.Request.Header.Set("Authorization", "Bearer "+token)
		}
	}
	c.Next()
}

// codecSession gives a superuser's browser the codec cookie: their access
// token, sent only to /codec and only from the same site, so it ends with
// their session.
func (s *Server) codecSession(c *gin.Context) {
	_, token, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	http.SetCookie(c.Writer, &http.Cookie{
		Name: codecCookie, Value: token, Path: codecPath,
		MaxAge: int(s.cfg.AccessTokenTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https",
	})
	c.JSON(http.StatusOK, messageResponse{Message: "This browser may decode Temporal payloads until the session ends"})
}

// codecCORS lets the Web UI's origins call the codec endpoint with the
// cookie: the one place the API allows credentials.
func codecCORS(origins []string) gin.HandlerFunc {
	if len(origins) == 0 {
		return nil
	}
	return cors.New(cors.Config{
		AllowOrigins:     origins,
		AllowMethods:     []string{http.MethodPost},
		AllowHeaders:     []string{"Authorization", "Content-Type", "X-Namespace"},
		AllowCredentials: true,
		MaxAge:           time.Hour,
	})
}
