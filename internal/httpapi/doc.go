// Package httpapi is the HTTP plumbing every Signet surface shares: the one
// JSON decoder and parameter reader, the one error type and its OAuth JSON
// writer, the pages' security headers and error page, the rate limits, and
// request IDs. It holds no sign-in rules; those live in internal/signin.
package httpapi
