// Package newcomer holds the test of a newcomer's first hour: a fresh copy
// of the repository, the README's first command, the demo sign-in in a
// browser, then every command block and code example of the README, run as
// written. Blocks are told apart by an HTML comment before them:
// <!-- readme-test: KIND [ARG] --> where KIND is server (the first
// command), skip (with the reason), go-webapp and go-service (with the
// modules to get), node-webapp or node-script (with the npm package to
// install), service-calls (a sh block that calls the go-service before
// it); every sh block runs in one shell session, in the README's order,
// with the examples between them.
package newcomer
