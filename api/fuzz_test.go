package api_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/faketwilio"
)

const (
	fuzzTwilioToken = "fuzztwiliotoken0123456789abcdef"
	fuzzPublicURL   = "https://aimsg.example.com"
	fuzzPhone       = "+14155552671"
)

// FuzzTwilioWebhook: any form Twilio (or anyone) posts is answered without
// a server error; unsigned or wrongly signed forms store nothing; signed
// ones store each MessageSid at most once, however often it arrives.
func FuzzTwilioWebhook(f *testing.F) {
	hs := newHarness(f, "sqlite:///:memory:", map[string]string{
		"TWILIO_ACCOUNT_SID": "ACfuzz", "TWILIO_AUTH_TOKEN": fuzzTwilioToken, "TWILIO_PHONE_NUMBER": "+15005550006",
		"AI_MESSAGE_PUBLIC_URL": fuzzPublicURL,
	})
	w := hs.call("POST", "/auth/register", map[string]any{"username": "fuzzer", "email": "fuzzer@example.com",
		"password": "fuzzer-password", "phone_number": fuzzPhone}, "")
	if w.Code != http.StatusCreated {
		f.Fatal(w.Body.String())
	}
	for _, seed := range []struct {
		from, body, sid string
		signed          bool
	}{
		{fuzzPhone, "hello", "SM00000000000000000000000000000001", true},
		{"whatsapp:" + fuzzPhone, "STOP", "SM00000000000000000000000000000002", true},
		{"(415) 555-2671", "HELP", "SM00000000000000000000000000000003", true},
		{fuzzPhone, "a\x00b\xff", "SM00000000000000000000000000000004", true},
		{"+19999999999", "who am I", "SM00000000000000000000000000000005", true},
		{fuzzPhone, "forged", "SM00000000000000000000000000000006", false},
		{"", "", "", true},
		{fuzzPhone, "sid with nul", "SM\x00", true},
	} {
		f.Add(seed.from, seed.body, seed.sid, seed.signed)
	}
	f.Fuzz(func(t *testing.T, from, body, sid string, signed bool) {
		form := url.Values{"From": {from}, "To": {"+15005550006"}, "Body": {body}, "MessageSid": {sid}}
		signature := "bm90IGEgc2lnbmF0dXJl"
		if signed {
			signature = faketwilio.Sign(fuzzTwilioToken, fuzzPublicURL+"/twilio_webhook", form)
		}
		// Earlier inputs share the database: count what this one adds.
		before := storedSIDs(t, hs, sid)
		client := &apitest.Client{T: t, H: hs.h, CheckContract: true}
		for range 2 { // Twilio retries: the second delivery must change nothing
			w := client.Call("POST", "/twilio_webhook", form.Encode(), "",
				apitest.Header("Content-Type", "application/x-www-form-urlencoded"),
				apitest.Header("X-Twilio-Signature", signature))
			if w.Code >= 500 {
				t.Fatalf("server error %d: %s", w.Code, w.Body.String())
			}
			if !signed && w.Code != http.StatusForbidden {
				t.Fatalf("unsigned webhook answered %d", w.Code)
			}
		}
		after := storedSIDs(t, hs, sid)
		if after > 1 || (!signed && after != before) {
			t.Fatalf("MessageSid %q stored %d times, %d before (signed: %v)", sid, after, before, signed)
		}
	})
}

// storedSIDs counts the inbound SMS stored under a MessageSid.
func storedSIDs(t *testing.T, hs *harness, sid string) int64 {
	if len(sid) > 255 || !domain.StorableText(sid) {
		return 0 // no such id can be stored, nor looked up
	}
	n, err := hs.db.NewSelect().Model((*domain.Message)(nil)).
		Where("channel = ? AND external_id = ?", domain.ChannelTwilio, sid).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// FuzzTelegramWebhook: whatever JSON arrives with the right secret, the
// answer is never a server error.
func FuzzTelegramWebhook(f *testing.F) {
	hs := newHarness(f, "sqlite:///:memory:", map[string]string{
		"TELEGRAM_BOT_TOKEN": "123456:fuzz", "TELEGRAM_WEBHOOK_SECRET": "fuzz-secret", "TELEGRAM_BOT_USERNAME": "aimsg_fuzz_bot",
	})
	for _, seed := range []string{
		`{"update_id":1,"message":{"message_id":1,"chat":{"id":42,"type":"private"},"text":"hello"}}`,
		`{"update_id":2,"message":{"message_id":2,"chat":{"id":42},"text":"/start abcdef"}}`,
		`{"update_id":3,"edited_message":{"message_id":1,"chat":{"id":42},"text":"edited"}}`,
		`{"update_id":4,"message":{"message_id":3,"chat":{"id":-1},"text":"\u0000"}}`,
		`{"update_id":"x"}`, `{}`, `[]`, `{"update_id":5,"message":null}`, `{"message":{"chat":{"id":1e99}}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		client := &apitest.Client{T: t, H: hs.h, CheckContract: true}
		w := client.Call("POST", "/telegram_webhook", body, "", apitest.Header("X-Telegram-Bot-Api-Secret-Token", "fuzz-secret"))
		if w.Code >= 500 {
			t.Fatalf("server error %d: %s", w.Code, w.Body.String())
		}
	})
}
