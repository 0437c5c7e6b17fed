package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/aimsg/aimsg/devserver"
	"github.com/aimsg/aimsg/temporalclient"
	"github.com/aimsg/aimsg/workflows"
)

// Retention is how long the cluster's namespace keeps closed workflows.
const Retention = 72 * time.Hour

// temporalDB is one of the server's two databases and the schema it holds.
type temporalDB struct {
	name, schema string
}

func (c *Cluster) temporalDBs() []temporalDB {
	return []temporalDB{
		{c.opts.Prefix + "_temporal", "postgresql/v12/temporal"},
		{c.opts.Prefix + "_visibility", "postgresql/v12/visibility"},
	}
}

// pgTarget is where PostgreSQL is, as Temporal's config and SQL tool take it.
type pgTarget struct {
	host, port, user, password string
}

func parsePG(raw string) (pgTarget, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return pgTarget{}, fmt.Errorf("DATABASE_URL must be a postgres:// URL for the cluster")
	}
	t := pgTarget{host: u.Hostname(), port: u.Port(), user: u.User.Username()}
	t.password, _ = u.User.Password()
	if t.port == "" {
		t.port = "5432"
	}
	return t, nil
}

// prepareTemporal creates the server's databases if missing and brings
// their schemas to the version the server needs, with the server's own
// SQL tool and the schemas built into it.
func (c *Cluster) prepareTemporal(ctx context.Context) error {
	for _, db := range c.temporalDBs() {
		created, err := createDatabase(ctx, c.opts.DatabaseURL, db.name)
		if err != nil {
			return err
		}
		args := []string{"--ep", c.pg.host, "-p", c.pg.port, "-u", c.pg.user, "--pl", "postgres12", "--db", db.name}
		if created {
			if err := c.sqlTool(ctx, append(args, "setup-schema", "-v", "0.0")...); err != nil {
				return err
			}
		}
		if err := c.sqlTool(ctx, append(args, "update-schema", "--schema-name", db.schema)...); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) sqlTool(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.opts.Bin, SQLToolBinary), args...)
	if c.pg.password != "" {
		cmd.Env = append(os.Environ(), "SQL_PASSWORD="+c.pg.password)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("temporal sql tool %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// createDatabase creates name next to the database of adminURL; it says
// whether it had to.
func createDatabase(ctx context.Context, adminURL, name string) (bool, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return false, fmt.Errorf("connect to postgresql: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return false, fmt.Errorf("look for database %s: %w", name, err)
	}
	if exists {
		return false, nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return false, fmt.Errorf("create database %s: %w", name, err)
	}
	return true, nil
}

// DropDatabases removes the cluster's three databases (the reset of
// `make cluster-reset`); the cluster must be stopped.
func DropDatabases(ctx context.Context, adminURL, prefix string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to postgresql: %w", err)
	}
	defer conn.Close(ctx)
	for _, name := range []string{prefix + "_temporal", prefix + "_visibility", prefix} {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
	}
	return nil
}

// The server's ports, from the frontend's: its four services each take a
// gRPC and a membership port, and the frontend an HTTP one.
func (c *Cluster) temporalPort(offset int) int { return c.opts.TemporalPort + offset }

// TemporalAddress is the frontend workers and APIs connect to.
func (c *Cluster) TemporalAddress() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.opts.TemporalPort))
}

// writeTemporalConfig writes the server's configuration: all services in
// one process, persistence and visibility on PostgreSQL, and the dynamic
// config aimsg's latency budget relies on (devserver.DynamicConfig).
func (c *Cluster) writeTemporalConfig() (string, error) {
	dir := filepath.Join(c.opts.Dir, "temporal")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	store := func(db string, conns int) map[string]any {
		return map[string]any{"sql": map[string]any{
			"pluginName": "postgres12", "databaseName": db,
			"connectAddr": net.JoinHostPort(c.pg.host, c.pg.port), "connectProtocol": "tcp",
			"user": c.pg.user, "password": c.pg.password,
			"maxConns": conns, "maxIdleConns": conns, "maxConnLifetime": "1h",
		}}
	}
	dbs := c.temporalDBs()
	service := func(i int) map[string]any {
		rpc := map[string]any{"grpcPort": c.temporalPort(i), "membershipPort": c.temporalPort(4 + i), "bindOnLocalHost": true}
		if i == 0 {
			rpc["httpPort"] = c.temporalPort(serverPorts - 1)
		}
		return map[string]any{"rpc": rpc}
	}
	cfg := map[string]any{
		"log": map[string]any{"stdout": true, "level": "warn"},
		"persistence": map[string]any{
			"defaultStore": "default", "visibilityStore": "visibility", "numHistoryShards": HistoryShards,
			"datastores": map[string]any{"default": store(dbs[0].name, TemporalConns), "visibility": store(dbs[1].name, 3)},
		},
		"global":   map[string]any{"membership": map[string]any{"maxJoinDuration": "30s", "broadcastAddress": "127.0.0.1"}},
		"services": map[string]any{"frontend": service(0), "history": service(1), "matching": service(2), "worker": service(3)},
		"clusterMetadata": map[string]any{
			"enableGlobalNamespace": false, "failoverVersionIncrement": 10,
			"masterClusterName": "active", "currentClusterName": "active",
			"clusterInformation": map[string]any{"active": map[string]any{
				"enabled": true, "initialFailoverVersion": 1, "rpcName": "frontend", "rpcAddress": c.TemporalAddress(),
			}},
		},
		"dcRedirectionPolicy": map[string]any{"policy": "noop"},
		"dynamicConfigClient": map[string]any{"filepath": filepath.Join(dir, "dynamicconfig.yaml"), "pollInterval": "10s"},
	}
	dynamic := map[string]any{}
	for _, kv := range devserver.DynamicConfig {
		k, v, _ := strings.Cut(kv, "=")
		dynamic[k] = []map[string]any{{"value": yamlValue(v)}}
	}
	for name, v := range map[string]any{"cluster.yaml": cfg, "dynamicconfig.yaml": dynamic} {
		b, err := yaml.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("temporal config: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return "", fmt.Errorf("write temporal config: %w", err)
		}
	}
	return dir, nil
}

// yamlValue types a dynamic config value the way the CLI's
// --dynamic-config-value reads it.
func yamlValue(v string) any {
	if n, err := strconv.Atoi(v); err == nil {
		return n
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	return v
}

// registerNamespace creates the namespace (if missing) and aimsg's search
// attributes, then waits until a query on them is answered: the frontend
// caches both.
func (c *Cluster) registerNamespace(ctx context.Context) error {
	// A frontend that listens may not be healthy yet ("Frontend is not
	// healthy yet"), the longer on a loaded machine: dial until it is.
	var tc client.Client
	err := retry(ctx, func() error {
		var err error
		tc, err = client.Dial(temporalclient.Admin(c.TemporalAddress(), c.opts.Namespace, c.opts.Logger))
		return err
	})
	if err != nil {
		return fmt.Errorf("connect to temporal: %w", err)
	}
	defer tc.Close()
	_, err = tc.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: c.opts.Namespace, WorkflowExecutionRetentionPeriod: durationpb.New(Retention)})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %s: %w", c.opts.Namespace, err)
	}
	want := map[string]enums.IndexedValueType{}
	for _, k := range workflows.SearchAttributeKeys() {
		want[k.GetName()] = enums.INDEXED_VALUE_TYPE_KEYWORD
	}
	query := fmt.Sprintf("%s = ''", workflows.SearchAttributeKeys()[0].GetName())
	return retry(ctx, func() error {
		have, err := tc.OperatorService().ListSearchAttributes(ctx,
			&operatorservice.ListSearchAttributesRequest{Namespace: c.opts.Namespace})
		if err != nil {
			return err
		}
		missing := map[string]enums.IndexedValueType{}
		for name, typ := range want {
			if _, ok := have.GetCustomAttributes()[name]; !ok {
				missing[name] = typ
			}
		}
		if len(missing) > 0 {
			if _, err := tc.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
				Namespace: c.opts.Namespace, SearchAttributes: missing}); err != nil {
				return err
			}
		}
		_, err = tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Namespace: c.opts.Namespace, Query: query})
		return err
	})
}

// retry runs fn until it succeeds, fails for good (an error from
// permanent) or ctx ends, twice a second.
func retry(ctx context.Context, fn func() error) error {
	for {
		err := fn()
		var p permanentError
		if err == nil || errors.As(err, &p) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// permanentError ends a retry.
type permanentError struct{ error }

func permanent(err error) error { return permanentError{err} }
