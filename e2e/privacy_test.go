package e2e_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/workflows"
)

// rawHistory is a workflow's history as the Temporal server stores it,
// through c's connection, in protobuf bytes.
func rawHistory(t *testing.T, c client.Client, workflowID string) []byte {
	t.Helper()
	var out []byte
	req := &workflowservice.GetWorkflowExecutionHistoryRequest{Namespace: "default"}
	req.Execution = &commonpb.WorkflowExecution{WorkflowId: workflowID}
	for {
		resp, err := c.WorkflowService().GetWorkflowExecutionHistory(context.Background(), req)
		require.NoError(t, err)
		b, err := proto.Marshal(resp.GetHistory())
		require.NoError(t, err)
		out = append(out, b...)
		if len(resp.NextPageToken) == 0 {
			return out
		}
		req.NextPageToken = resp.NextPageToken
	}
}

// With TEMPORAL_PAYLOAD_KEY, Temporal stores no message text in clear,
// neither the user's nor the assistant's; operators read it through the
// API's codec endpoint, as the Web UI does.
func TestTemporalStoresNoMessageTextInClear(t *testing.T) {
	oldKey := codec.NewKey("e2e-old")
	s := newStack(t, "sqlite:///:memory:", fakellm.Echo, map[string]string{
		"TEMPORAL_PAYLOAD_KEY": oldKey, "CHAT_SUMMARY_EVERY": "0"})
	alice := s.User("alice")
	const secret = "my locker code is pineapple-7731"
	q := s.ask(alice, secret)
	reply := s.replyTo(alice, apitest.ID(q), 30*time.Second)
	assert.Equal(t, "echo: "+secret, reply["content"])
	s.turnOutcome(apitest.ID(q))

	ids := []string{workflows.TurnWorkflowID(apitest.ID(q)),
		workflows.ConversationWorkflowID(domain.AIConversationID(alice.UserID()))}
	for _, id := range ids {
		raw := rawHistory(t, s.tc, id)
		assert.False(t, bytes.Contains(raw, []byte("pineapple-7731")), "%s holds the message in clear", id)
		assert.True(t, bytes.Contains(raw, []byte(codec.Encoding)), "%s has sealed payloads", id)
	}

	// Through the codec endpoint, with a superuser's token, the turn reads
	// in clear again.
	hash, err := auth.HashPassword("operator-password", 10)
	require.NoError(t, err)
	_, _, err = domain.EnsureSuperuser(context.Background(), s.db, domain.SuperuserInput{
		Username: "operator", Email: "operator@example.com", HashedPassword: hash})
	require.NoError(t, err)
	operator := s.Login("operator", "operator-password")
	for name, api := range map[string]http.Handler{"the same key": s.H, "a rotated key": rotatedAPI(s, oldKey)} {
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		decoding, err := converter.NewPayloadCodecGRPCClientInterceptor(converter.PayloadCodecGRPCClientInterceptorOptions{
			Codecs: []converter.PayloadCodec{apitest.RemoteCodec(srv.URL, operator.AccessToken)}})
		require.NoError(t, err)
		ui, err := client.Dial(client.Options{HostPort: s.cfg.TemporalAddress, Namespace: "default",
			ConnectionOptions: client.ConnectionOptions{DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(decoding)}}})
		require.NoError(t, err)
		t.Cleanup(ui.Close)
		raw := rawHistory(t, ui, ids[0])
		assert.True(t, bytes.Contains(raw, []byte("pineapple-7731")), "with %s the operator reads the question", name)
		assert.True(t, bytes.Contains(raw, []byte("echo: my locker code")), "with %s, and the answer", name)
	}
}

// rotatedAPI is an API process of s after a key rotation: a new key
// first, the old one after it.
func rotatedAPI(s *stack, oldKey string) http.Handler {
	cfg := s.cfg
	cfg.TemporalPayloadKey = codec.NewKey("e2e-new") + "," + oldKey
	rotated := *s
	rotated.cfg = cfg
	return rotated.newAPI()
}
