package activities_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// The sender checks the address it actually connects to with the same
// rule as a new subscription: special-purpose addresses, IPv4 ones inside
// IPv6 included, are refused before any packet leaves, unless private
// addresses are allowed.
func TestWebhookDialRefusesSpecialPurposeAddresses(t *testing.T) {
	dial := activities.NewWebhooks(false, time.Hour).HTTP.Transport.(*http.Transport).DialContext
	for _, addr := range []string{"127.0.0.1:443", "[::1]:443", "10.0.0.1:443", "169.254.169.254:80",
		"[64:ff9b::7f00:1]:443", "[2002:7f00:1::]:443", "0.1.2.3:443", "198.18.0.1:443", "240.0.0.1:443",
		"192.0.0.8:443", "[::ffff:127.0.0.1]:443", "[2001:0:4136:e378:8000:63bf:80ff:fffe]:443",
		"[fe80::1%25lo]:443", "[fd00::1]:443", "[2001:db8::1]:443"} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := dial(ctx, "tcp", addr)
		cancel()
		if conn != nil {
			conn.Close()
		}
		assert.ErrorIs(t, err, domain.ErrPrivateAddress, addr)
	}

	// A public address passes the check (and then finds no route here).
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if conn, err := dial(ctx, "tcp", "93.184.216.34:443"); err == nil {
		conn.Close()
	} else {
		assert.NotErrorIs(t, err, domain.ErrPrivateAddress)
	}
}

func TestWebhookDialReachesPrivateAddressesWhenAllowed(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	resp, err := activities.NewWebhooks(true, time.Hour).HTTP.Post(receiver.URL, "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)

	_, err = activities.NewWebhooks(false, time.Hour).HTTP.Post(receiver.URL, "application/json", nil)
	assert.ErrorIs(t, err, domain.ErrPrivateAddress)
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr, "refused while dialling")
}

// A delivery to a subscription whose host now resolves to a refused
// address (made before the check, or rebound since) stops at once, and
// its last error names the range that was refused.
func TestWebhookDialRefusalEndsTheDelivery(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u, err := domain.CreateUser(ctx, db, domain.NewUser{Username: "root", Email: "root@example.com", HashedPassword: "x"})
		require.NoError(t, err)
		sub, err := domain.CreateWebhook(ctx, db, "https://[64:ff9b::7f00:1]/hook", domain.EventList{domain.EventReportCreated}, "s", u.ID)
		require.NoError(t, err)
		d := &domain.WebhookDelivery{SubscriptionID: sub.ID, EventID: "evt_1", Event: domain.EventReportCreated,
			Body: "{}", State: domain.WebhookPending}
		_, err = db.NewInsert().Model(d).Exec(ctx)
		require.NoError(t, err)

		a := &activities.Activities{DB: db, Webhooks: activities.NewWebhooks(false, time.Hour), Logger: testenv.Logger()}
		_, err = a.SendWebhook(ctx, d.ID)
		var appErr *temporal.ApplicationError
		require.True(t, errors.As(err, &appErr), "%v", err)
		assert.Equal(t, activities.ErrWebhookRefused, appErr.Type())
		assert.True(t, appErr.NonRetryable())
		assert.Contains(t, appErr.Error(), "127.0.0.0/8")

		got, _, err := domain.WebhookDeliveryByID(ctx, db, d.ID)
		require.NoError(t, err)
		require.NotNil(t, got.LastError)
		assert.Contains(t, *got.LastError, domain.ErrPrivateAddress.Error())
		assert.Contains(t, *got.LastError, "64:ff9b::/96")
	})
}
