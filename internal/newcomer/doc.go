// Package newcomer holds the test of a newcomer's first hour: a fresh copy
// of the repository, the README's first command, the demo sign-in in a
// browser, then every command block and code example of the README, run as
// written. Blocks are told apart by an HTML comment before them:
// <!-- readme-test: KIND [ARG] --> where KIND is server (the first
// command), skip (with the reason), go-webapp, go-verify, node-webapp or
// node-script (with the npm package to install); a sh block without a
// comment runs in one shell session, in order.
package newcomer
