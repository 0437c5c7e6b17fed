package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Kind tells an access token from a refresh token. Each kind has its own
// audience as well as its own typ claim, so neither can pass for the other.
type Kind string

// The two kinds of token.
const (
	Access  Kind = "access"
	Refresh Kind = "refresh"
)

const issuer = "aimsg"

func audience(k Kind) string { return "aimsg:" + string(k) }

// ErrInvalidToken covers every reason a token is refused; the reason is
// logged, never told to the client.
var ErrInvalidToken = errors.New("invalid token")

// Claims are what aimsg puts in its JWTs.
type Claims struct {
	jwt.RegisteredClaims
	Kind Kind `json:"typ"`
	// SessionToken names the session (sessions.session_token) the token belongs to.
	SessionToken string `json:"sid"`
}

// UserID is the subject as a user id.
func (c *Claims) UserID() (int64, error) {
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: bad subject", ErrInvalidToken)
	}
	return id, nil
}

// Tokens signs and checks aimsg's JWTs with one HS256 key.
type Tokens struct {
	key     []byte
	parsers map[Kind]*jwt.Parser
	now     func() time.Time
}

// NewTokens builds the signer; key is SECRET_KEY.
func NewTokens(key string) *Tokens {
	t := &Tokens{key: []byte(key), parsers: map[Kind]*jwt.Parser{}, now: time.Now}
	for _, k := range []Kind{Access, Refresh} {
		t.parsers[k] = jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience(k)),
			jwt.WithLeeway(5*time.Second),
			jwt.WithTimeFunc(func() time.Time { return t.now() }),
		)
	}
	return t
}

// Issue signs a token of kind for a user's session, valid until expires.
func (t *Tokens) Issue(kind Kind, userID int64, sessionToken string, expires time.Time) (string, error) {
	now := t.now()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   strconv.FormatInt(userID, 10),
			Audience:  jwt.ClaimStrings{audience(kind)},
			ExpiresAt: jwt.NewNumericDate(expires),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        RandomToken(16),
		},
		Kind:         kind,
		SessionToken: sessionToken,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("sign %s token: %w", kind, err)
	}
	return s, nil
}

// Parse checks signature, algorithm, issuer, audience, expiry and issue time
// of a token that must be of kind, and returns its claims.
func (t *Tokens) Parse(kind Kind, token string) (*Claims, error) {
	claims := &Claims{}
	_, err := t.parsers[kind].ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return t.key, nil })
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	switch {
	case claims.IssuedAt == nil:
		return nil, fmt.Errorf("%w: no iat", ErrInvalidToken)
	case claims.Kind != kind:
		return nil, fmt.Errorf("%w: %q token where %q was expected", ErrInvalidToken, claims.Kind, kind)
	case claims.SessionToken == "":
		return nil, fmt.Errorf("%w: no session", ErrInvalidToken)
	}
	if _, err := claims.UserID(); err != nil {
		return nil, err
	}
	return claims, nil
}

// RandomToken is n random bytes, URL-safe base64.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is how refresh tokens are stored: a leaked table holds nothing
// that can be presented. A fast hash suffices for high-entropy secrets.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
