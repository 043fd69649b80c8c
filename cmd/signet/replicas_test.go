package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/signet-id/signet/internal/storagetest"
)

// TestReplicasStartTogether starts two `signet serve` processes at the same
// moment on one PostgreSQL database without a signing key. They must agree
// on one first key: a replica that signed with a key of its own would issue
// tokens that fail against the other's JWKS until its next key refresh.
func TestReplicasStartTogether(t *testing.T) {
	// A brand-new database: the replicas also migrate it together.
	t.Run("fresh database", func(t *testing.T) {
		startReplicasAgree(t, freshPostgresDatabase(t))
	})
	// The usual order: clients registered first (which migrates), then the
	// replicas started; they reach the signing key at the same moment.
	t.Run("clients registered first", func(t *testing.T) {
		dsn := freshPostgresDatabase(t)
		if _, err := run(t, map[string]string{"SIGNET_DATABASE": dsn}, "clients", "add", "--name", "App", "--redirect-uri", "https://app.example/cb"); err != nil {
			t.Fatal(err)
		}
		startReplicasAgree(t, dsn)
	})
}

// startReplicasAgree starts two replicas on dsn at once and checks that both
// become ready and publish the same single key.
func startReplicasAgree(t *testing.T, dsn string) {
	t.Helper()
	secret := strings.Repeat("s", 40)
	var replicas []*replica
	for range 2 {
		addr := freePort(t)
		replicas = append(replicas, startReplica(t, "http://"+addr, []string{
			"SIGNET_DATABASE=" + dsn,
			"SIGNET_SECRET=" + secret,
			"SIGNET_ISSUER=http://" + addr,
			"SIGNET_LISTEN=" + addr,
			"SIGNET_LOG_LEVEL=warn",
		}))
	}
	for _, r := range replicas {
		r.waitReady(t)
	}
	a, b := publishedKIDs(t, replicas[0].base+"/keys"), publishedKIDs(t, replicas[1].base+"/keys")
	if len(a) != 1 || !slices.Equal(a, b) {
		t.Fatalf("replicas publish %v and %v; want the same single key", a, b)
	}
}

// replica is `signet serve` running as a child process, whose exit the
// test sees.
type replica struct {
	base   string
	cmd    *exec.Cmd
	log    bytes.Buffer
	exited chan struct{}
}

// startReplica runs the test binary as `signet serve` with env, serving base.
func startReplica(t *testing.T, base string, env []string) *replica {
	t.Helper()
	r := &replica{base: base, exited: make(chan struct{})}
	r.cmd = exec.Command(os.Args[0], "serve")
	r.cmd.Env = append(os.Environ(), append(env, "SIGNET_TEST_RUN_MAIN=1")...)
	lw := &lockedWriter{w: &r.log}
	r.cmd.Stdout, r.cmd.Stderr = lw, lw
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); <-r.exited })
	return r
}

// waitReady waits until the replica answers /ready, failing the test with
// its log if it exits first or never gets ready.
func (r *replica) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	c := &http.Client{Timeout: 5 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-r.exited: // the log is complete
			t.Fatalf("signet at %s exited before it was ready:\n%s", r.base, r.log.String())
		default:
		}
		if resp, err := c.Get(r.base + "/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = r.cmd.Process.Kill()
	<-r.exited
	t.Fatalf("signet at %s never became ready:\n%s", r.base, r.log.String())
}

// freshPostgresDatabase creates an empty database on the server that
// SIGNET_TEST_POSTGRES_DSN names, drops it when the test ends, and returns
// its DSN. It skips the test (or fails it, under SIGNET_TEST_REQUIRE_ALL)
// when there is no server to use.
func freshPostgresDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv(storagetest.EnvPostgres)
	if base == "" {
		storagetest.Skip(t, storagetest.EnvPostgres+" is not set; PostgreSQL replica test skipped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		storagetest.Skip(t, fmt.Sprintf("PostgreSQL at %s unusable: %v", storagetest.EnvPostgres, err))
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		storagetest.Skip(t, fmt.Sprintf("PostgreSQL at %s unreachable: %v", storagetest.EnvPostgres, err))
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "signet_keyrace_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", storagetest.EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}

// publishedKIDs returns the key IDs of the JWKS at u, in its order.
func publishedKIDs(t *testing.T, u string) []string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("GET %s: %v\n%s", u, err, body)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}
