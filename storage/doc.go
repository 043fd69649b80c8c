// Package storage keeps Signet's state in a relational database through gorm:
// clients, SIWE challenges, authorization requests and codes, logins, access
// and refresh tokens, signing keys and settings.
//
// SQLite (pure Go, WAL, immediate transactions) is the embedded default;
// PostgreSQL serves several replicas at once. Every single-use value
// (challenge, authorization code, refresh token) is consumed by one
// conditional write, so concurrent callers get exactly one winner on either
// backend.
package storage
