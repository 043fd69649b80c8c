// Package web renders Signet's browser pages and serves their assets.
//
// Everything a person sees is here: the login page that asks a browser wallet
// to sign a Sign-In with Ethereum (EIP-4361) message, the error page, and the
// two pages of the /demo relying party. Templates, the single script
// (login.js) and the stylesheet are embedded with [embed], so the binary needs
// no files on disk and there is no build step.
//
// The pages are written for a strict Content-Security-Policy such as
//
//	default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:
//
// They contain no inline script, no inline event handlers and no style
// attributes; values the script needs travel in data-* attributes, which
// html/template escapes. (img-src data: only matters for the wallet icons that
// EIP-6963 wallets announce as data: URIs; without it the chooser shows each
// wallet's initial instead.)
//
// The package imports nothing of the rest of Signet; op/ fills the data
// structs and mounts [Static] under its static prefix.
package web
