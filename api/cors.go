package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

// webhookPaths are called by Twilio and Telegram, server to server and
// signed: no browser origin applies to them.
var webhookPaths = []string{"/twilio_webhook", "/twilio_status", "/telegram_webhook"}

// corsFor lets pages of other origins call the API (AI_MESSAGE_CORS_ORIGINS):
// preflights answered for the API's methods and headers, without
// credentials (clients send bearer tokens, not cookies). A request from
// an origin not listed gets 403. The API's public origin is always
// allowed. Without origins it is nil: same origin only, which browsers
// enforce by themselves. The codec endpoint has its own origins, the
// Temporal Web UI's (TEMPORAL_CODEC_CORS_ORIGINS), with credentials.
func corsFor(origins []string, publicURL string, codecOrigins []string) gin.HandlerFunc {
	forCodec := codecCORS(codecOrigins)
	if len(origins) == 0 && forCodec == nil {
		return nil
	}
	allowed := slices.Clone(origins)
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		allowed = append(allowed, u.Scheme+"://"+u.Host)
	}
	everyone := slices.Contains(allowed, "*")
	allow := func(origin string) bool { return everyone || slices.Contains(allowed, origin) }
	handle := cors.New(cors.Config{
		AllowOriginFunc: allow,
		AllowMethods:    []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete},
		AllowHeaders:    []string{"Authorization", "Content-Type", "Last-Event-ID", requestIDHeader},
		ExposeHeaders:   []string{"X-Total-Count", "Retry-After", "WWW-Authenticate", requestIDHeader},
		MaxAge:          time.Hour,
	})
	return func(c *gin.Context) {
		if slices.Contains(webhookPaths, c.Request.URL.Path) {
			return
		}
		origin := c.GetHeader("Origin")
		foreign := origin != "" && strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://") != c.Request.Host
		if strings.HasPrefix(c.Request.URL.Path, codecPath+"/") {
			switch {
			case foreign && !slices.Contains(codecOrigins, origin):
				abort(c, http.StatusForbidden, "Origin not allowed")
			case forCodec != nil:
				forCodec(c)
			}
			return
		}
		if len(origins) == 0 {
			return
		}
		if foreign && !allow(origin) {
			abort(c, http.StatusForbidden, "Origin not allowed")
			return
		}
		handle(c)
	}
}
