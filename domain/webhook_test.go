package domain_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

func outboxCount(t *testing.T, db *bun.DB) int {
	t.Helper()
	n, err := db.NewSelect().Model((*domain.WebhookOutbox)(nil)).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

func deliveriesOf(t *testing.T, db *bun.DB, subID int64) []domain.WebhookDelivery {
	t.Helper()
	var out []domain.WebhookDelivery
	require.NoError(t, db.NewSelect().Model(&out).Where("subscription_id = ?", subID).Order("id").Scan(context.Background()))
	return out
}

// The triggers write an outbox event for each change a subscription may
// want, in the change's own transaction, and none while nobody subscribes;
// the fan-out makes one delivery per subscription that wants the event.
func TestWebhookEventsAreWrittenWithTheirChange(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		ann, root := newUser(t, db, "ann", false), newUser(t, db, "root", true)
		ai := assistant(t, db)

		_, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: ann.ID, RecipientID: ai.ID, Content: "nobody listens"})
		require.NoError(t, err)
		assert.Zero(t, outboxCount(t, db), "no subscription, no event")

		all, err := domain.CreateWebhook(ctx, db, "https://receiver.example/all", domain.EventList(domain.WebhookEvents), "s1", root.ID)
		require.NoError(t, err)
		reportsOnly, err := domain.CreateWebhook(ctx, db, "https://receiver.example/reports",
			domain.EventList{domain.EventReportCreated, domain.EventReportStatusChanged}, "s2", root.ID)
		require.NoError(t, err)

		q, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: ann.ID, RecipientID: ai.ID, Content: "hello"})
		require.NoError(t, err)
		_, err = domain.SaveReply(ctx, db, domain.Reply{ConversationID: *q.ConversationID, UserID: ann.ID,
			AnswersUpTo: q.ID, Content: "hi ann"})
		require.NoError(t, err)
		r, err := domain.CreateReport(ctx, db, ann, "broken", "it broke")
		require.NoError(t, err)
		_, err = domain.CommentReport(ctx, db, root, r.ID, "looking", true)
		require.NoError(t, err)
		_, err = domain.CommentReport(ctx, db, root, r.ID, "still looking", false)
		require.NoError(t, err) // no status change, no event
		conv := domain.AIConversationID(ann.ID)
		require.NoError(t, domain.RecordMode(ctx, db, domain.ModeChange{ConversationID: conv, UserID: ann.ID,
			Mode: domain.ModeHuman, Reason: "asked", AgentID: root.ID, Since: time.Now()}))
		require.NoError(t, domain.RecordMode(ctx, db, domain.ModeChange{ConversationID: conv, UserID: ann.ID, Mode: domain.ModeAI}))
		assert.Equal(t, 6, outboxCount(t, db))

		// A rolled-back change leaves no event.
		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := domain.CreateReport(ctx, tx, ann, "never", "rolled back"); err != nil {
				return err
			}
			return assert.AnError
		})
		require.ErrorIs(t, err, assert.AnError)
		assert.Equal(t, 6, outboxCount(t, db))

		n, err := domain.FanOutWebhooks(ctx, db, 100)
		require.NoError(t, err)
		assert.Equal(t, 6, n)
		assert.Zero(t, outboxCount(t, db))

		got := deliveriesOf(t, db, all.ID)
		var types []domain.WebhookEvent
		for _, d := range got {
			types = append(types, d.Event)
			assert.Equal(t, domain.WebhookPending, d.State)
		}
		assert.Equal(t, []domain.WebhookEvent{domain.EventMessageReceived, domain.EventMessageReplied,
			domain.EventReportCreated, domain.EventReportStatusChanged, domain.EventHandedOff, domain.EventResumed}, types)
		var env struct {
			ID   string         `json:"id"`
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(got[0].Body), &env))
		assert.Equal(t, got[0].EventID, env.ID)
		assert.Equal(t, "hello", env.Data["content"])
		require.NoError(t, json.Unmarshal([]byte(got[3].Body), &env))
		assert.Equal(t, "open", env.Data["previous_status"])
		assert.Equal(t, "in_progress", env.Data["status"])
		require.NoError(t, json.Unmarshal([]byte(got[4].Body), &env))
		assert.Equal(t, "human", env.Data["mode"])
		assert.EqualValues(t, root.ID, env.Data["agent_id"])

		reports := deliveriesOf(t, db, reportsOnly.ID)
		require.Len(t, reports, 2)
		assert.Equal(t, got[2].EventID, reports[0].EventID, "one event id for every subscription")

		// Deleting a subscription takes its deliveries with it.
		require.NoError(t, domain.DeleteWebhook(ctx, db, reportsOnly.ID))
		assert.Empty(t, deliveriesOf(t, db, reportsOnly.ID))
		assert.ErrorIs(t, domain.DeleteWebhook(ctx, db, reportsOnly.ID), domain.ErrNotFound)
	})
}

// A subscription failing for the give-up time is disabled; a success in
// between starts the count again.
func TestAFailingSubscriptionIsDisabled(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		root, ann := newUser(t, db, "root", true), newUser(t, db, "ann", false)
		sub, err := domain.CreateWebhook(ctx, db, "https://receiver.example", domain.EventList{domain.EventReportCreated}, "s", root.ID)
		require.NoError(t, err)
		for range 3 {
			_, err = domain.CreateReport(ctx, db, ann, "r", "c")
			require.NoError(t, err)
		}
		_, err = domain.FanOutWebhooks(ctx, db, 100)
		require.NoError(t, err)
		ds := deliveriesOf(t, db, sub.ID)
		require.Len(t, ds, 3)

		t0 := time.Now().UTC().Truncate(time.Second)
		attempt := func(d int64, at time.Duration, failed bool) bool {
			a := domain.WebhookAttempt{DeliveryID: d, Status: 200, At: t0.Add(at), GiveUpAfter: time.Hour}
			if failed {
				a.Status, a.Err = 503, "receiver answered 503"
			}
			disabled, err := domain.RecordWebhookAttempt(ctx, db, a)
			require.NoError(t, err)
			return disabled
		}
		assert.False(t, attempt(ds[0].ID, 0, true))
		assert.False(t, attempt(ds[1].ID, 50*time.Minute, false), "a success ends the failing spell")
		assert.False(t, attempt(ds[0].ID, 70*time.Minute, true), "a new spell starts")
		assert.False(t, attempt(ds[0].ID, 100*time.Minute, true))
		assert.True(t, attempt(ds[2].ID, 131*time.Minute, true), "failing for an hour")

		got, err := domain.WebhookByID(ctx, db, sub.ID)
		require.NoError(t, err)
		assert.False(t, got.IsActive)
		require.NotNil(t, got.DisabledReason)
		assert.Contains(t, *got.DisabledReason, "503")
		ds = deliveriesOf(t, db, sub.ID)
		assert.Equal(t, 3, ds[0].Attempts)
		assert.Equal(t, domain.WebhookDelivered, ds[1].State)
		assert.Equal(t, 503, *ds[0].ResponseStatus)

		// A disabled subscription gets no more events.
		_, err = domain.CreateReport(ctx, db, ann, "after", "c")
		require.NoError(t, err)
		assert.Zero(t, outboxCount(t, db))
	})
}

// Without allowPrivate a webhook may go to a public address only: every
// range of IANA's special-purpose registries is refused, written as IPv4
// or IPv6, and the forms that carry an IPv4 address inside an IPv6 one
// (IPv4-mapped and -compatible, NAT64, 6to4, Teredo) name the range of the
// address they carry. Each case is the host of an https URL and a part of
// the refusal.
func TestWebhookURLToASpecialPurposeAddressIsRefused(t *testing.T) {
	for host, names := range map[string]string{
		// IPv4 Special-Purpose Address Registry, and multicast.
		"0.1.2.3":         "0.0.0.0/8",
		"0.0.0.0":         "0.0.0.0/8",
		"10.1.2.3":        "10.0.0.0/8",
		"100.64.0.1":      "100.64.0.0/10",
		"100.127.255.254": "100.64.0.0/10",
		"127.0.0.1":       "127.0.0.0/8",
		"127.255.0.9":     "127.0.0.0/8",
		"169.254.169.254": "169.254.0.0/16",
		"172.16.0.1":      "172.16.0.0/12",
		"172.31.255.1":    "172.16.0.0/12",
		"192.0.0.8":       "192.0.0.0/24",
		"192.0.0.170":     "192.0.0.0/24",
		"192.0.2.1":       "192.0.2.0/24",
		"192.31.196.1":    "192.31.196.0/24",
		"192.52.193.1":    "192.52.193.0/24",
		"192.88.99.1":     "192.88.99.0/24",
		"192.168.1.1":     "192.168.0.0/16",
		"192.175.48.1":    "192.175.48.0/24",
		"198.18.0.1":      "198.18.0.0/15",
		"198.19.255.255":  "198.18.0.0/15",
		"198.51.100.1":    "198.51.100.0/24",
		"203.0.113.7":     "203.0.113.0/24",
		"224.0.0.1":       "224.0.0.0/4",
		"239.255.255.250": "224.0.0.0/4",
		"240.0.0.1":       "240.0.0.0/4",
		"255.255.255.255": "255.255.255.255/32",
		// IPv6 Special-Purpose Address Registry, and multicast.
		"[::]":              "::/128",
		"[::1]":             "::1/128",
		"[64:ff9b:1::1]":    "64:ff9b:1::/48",
		"[100::1]":          "100::/64",
		"[2001::1]":         "2001::/32",
		"[2001:2::1]":       "2001::/23",
		"[2001:1ff::1]":     "2001::/23",
		"[2001:db8::1]":     "2001:db8::/32",
		"[2620:4f:8000::1]": "2620:4f:8000::/48",
		"[3fff::1]":         "3fff::/20",
		"[3fff:fff::1]":     "3fff::/20",
		"[5f00::1]":         "5f00::/16",
		"[fc00::1]":         "fc00::/7",
		"[fd00::2]":         "fc00::/7",
		"[fe80::1]":         "fe80::/10",
		"[fe80::1%25eth0]":  "fe80::/10",
		"[ff02::1]":         "ff00::/8",
		"[ff0e::1]":         "ff00::/8",
		"[fec0::1]":         "fec0::/10",
		"[4000::1]":         "4000::/2",
		"[1000::1]":         "::/3",
		// IPv4 inside IPv6: the range of the IPv4 address is named.
		"[::ffff:127.0.0.1]":                        "127.0.0.0/8",
		"[::ffff:a00:1]":                            "10.0.0.0/8",
		"[::127.0.0.1]":                             "127.0.0.0/8",
		"[::5db8:d822]":                             "::/96",
		"[64:ff9b::7f00:1]":                         "127.0.0.0/8",
		"[64:ff9b::a9fe:a9fe]":                      "169.254.0.0/16",
		"[64:ff9b::5db8:d822]":                      "64:ff9b::/96",
		"[2002:7f00:1::]":                           "127.0.0.0/8",
		"[2002:c0a8:101::1]":                        "192.168.0.0/16",
		"[2002:5db8:d822::1]":                       "2002::/16",
		"[2001:0:4136:e378:8000:63bf:80ff:fffe]":    "127.0.0.0/8",
		"[2001:0:4136:e378:8000:63bf:3fff:fdd2]":    "192.0.2.0/24",
		"[2001:0:5db8:d822:8000:63bf:a247:27dd]":    "2001::/32",
		"[64:ff9b::7f00:1]:8443":                    "127.0.0.0/8",
		"[0:0:0:0:0:ffff:7f00:1]":                   "127.0.0.0/8",
		"[2002:7f00:1:0:0:0:0:1]":                   "127.0.0.0/8",
		"[2001:0000:4136:e378:8000:63bf:80ff:fffe]": "127.0.0.0/8",
	} {
		t.Run(host, func(t *testing.T) {
			_, err := domain.CheckWebhookURL("https://"+host+"/hook", false)
			require.ErrorIs(t, err, domain.ErrInvalid)
			assert.Contains(t, err.Error(), domain.ErrPrivateAddress.Error())
			assert.Contains(t, err.Error(), names)
		})
	}
}

// Public addresses are still taken, IPv4 ones written as IPv4-mapped too
// (the resolver answers in that form); allowPrivate takes any address and
// plain http, and nothing takes a URL that is not absolute http(s). An
// address leaves no name to resolve.
func TestWebhookURLToAPublicAddressIsTaken(t *testing.T) {
	check := func(u string, allowPrivate bool) error {
		name, err := domain.CheckWebhookURL(u, allowPrivate)
		assert.Empty(t, name, u)
		return err
	}
	for _, host := range []string{"93.184.216.34", "1.1.1.1", "8.8.8.8", "198.20.0.1", "192.0.1.1", "100.128.0.1",
		"[2606:4700::1111]", "[2001:4860:4860::8888]", "[2001:200::1]", "[2a00:1450:4001::1]", "[3fff:1000::1]",
		"[::ffff:93.184.216.34]", "93.184.216.34:8443"} {
		assert.NoError(t, check("https://"+host+"/hook", false), host)
	}
	assert.ErrorIs(t, check("http://93.184.216.34/hook", false), domain.ErrInvalid, "https only")
	for _, u := range []string{"http://127.0.0.1:9/hook", "https://[64:ff9b::7f00:1]/", "http://[::1]/", "https://10.0.0.1/"} {
		assert.NoError(t, check(u, true), u)
	}
	for _, u := range []string{"ftp://93.184.216.34/x", "https://user:pw@93.184.216.34/", "/relative", "https://93.184.216.34/#frag"} {
		assert.ErrorIs(t, check(u, true), domain.ErrInvalid, u)
	}
}

// A host given by name comes back to be resolved where subscriptions are
// made (the domain does no network I/O), unless private addresses are
// allowed; a URL with no host name is refused as one that cannot resolve.
func TestWebhookURLByNameLeavesTheNameToResolve(t *testing.T) {
	name, err := domain.CheckWebhookURL("https://hooks.example.com:8443/x", false)
	require.NoError(t, err)
	assert.Equal(t, "hooks.example.com", name)
	name, err = domain.CheckWebhookURL("https://localhost/x", true)
	require.NoError(t, err)
	assert.Empty(t, name)
	_, err = domain.CheckWebhookURL("https://:443/x", false)
	assert.ErrorIs(t, err, domain.ErrInvalid)
}
