// Package stellar lets Signet accept Stellar accounts: it reads a Stellar
// account ID and checks an ed25519 signature made by that account's key.
//
// An account ID is a SEP-23 strkey, "G" followed by 55 base-32 symbols that
// carry a version byte, the 32-byte ed25519 public key and a CRC16-XModem
// checksum; [ParseAddress] accepts exactly that and nothing else (no secret
// seeds, no muxed "M" accounts, no lower case). [Verify] accepts a signature
// over the exact message bytes, either raw ed25519 (what Python's stellar_sdk
// Keypair.sign makes) or a SEP-53 signed message. [CAIP10] names the account
// as Signet's subject, "stellar:pubnet:G…".
//
// The standard library is enough: encoding/base32 (RFC 4648), crypto/ed25519
// and crypto/sha256 do the real work, and the strkey checksum is a dozen
// lines of CRC16. A Stellar SDK would bring XDR, Horizon clients and
// transaction building for those dozen lines.
//
// Errors wrap one of three values, so that callers can answer without
// reading their text: [ErrMalformedAddress], [ErrMalformedSignature] and
// [ErrWrongSigner]. Their texts never echo the input and are safe to show.
package stellar
