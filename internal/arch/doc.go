// Package arch holds the tests that keep Signet's structure what
// docs/architecture.md says it is: which package may import which, and how
// large a production file or function may grow.
package arch
