package siwe

import (
	"context"
	"encoding/hex"
	"math/big"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// MaxSignatureBytes is the longest signature Verify accepts; contract-wallet
// signatures (ERC-6492) are longer than 65 bytes, so this is generous.
const MaxSignatureBytes = 16 << 10

// SignatureChecker verifies a signature over an EIP-191 hash for an account on
// a chain and returns who signed.
//
// The default is [EOAChecker]; contract wallets (ERC-1271, ERC-6492) and
// developer-license signer sets are other implementations. A checker reports a
// rejected signature as an [*Error] with CodeInvalidGrant; any other error
// counts as a failed dependency.
type SignatureChecker interface {
	// CheckSignature returns the key that produced sig over hash on behalf of account.
	CheckSignature(ctx context.Context, chainID int64, account common.Address, hash common.Hash, sig []byte) (signer common.Address, err error)
}

// EOAChecker accepts secp256k1 signatures made by the account's own key,
// recovered with ecrecover: 65 bytes (r, s, v), or 64 in the compact form of
// EIP-2098.
type EOAChecker struct{}

var _ SignatureChecker = EOAChecker{}

// CheckSignature recovers the signer of hash from sig and requires it to be account.
func (EOAChecker) CheckSignature(_ context.Context, _ int64, account common.Address, hash common.Hash, sig []byte) (common.Address, error) {
	signer, err := Recover(hash, sig)
	if err != nil {
		return common.Address{}, err
	}
	if signer != account {
		return common.Address{}, invalidGrant(CheckSigner, "signature does not match the address")
	}
	return signer, nil
}

// Recover returns the key that made a secp256k1 signature over hash: 65
// bytes (r, s, v), where v may be 27/28 (Ethereum's legacy encoding) or 0/1,
// or 64 bytes (r, yParityAndS) in the compact form of EIP-2098. Failures are
// [*Error] values with CodeInvalidGrant.
func Recover(hash common.Hash, sig []byte) (common.Address, error) {
	if len(sig) == compactSignatureLength {
		full, ok := expandCompact(sig)
		if !ok {
			return common.Address{}, invalidGrant(CheckSignature, "signature is not a valid secp256k1 signature")
		}
		sig = full
	}
	if len(sig) != crypto.SignatureLength {
		return common.Address{}, invalidGrant(CheckSignature, "signature must be 65 bytes (or 64 in the compact form of EIP-2098)")
	}
	v := sig[crypto.RecoveryIDOffset]
	switch v {
	case 27, 28:
		v -= 27
	case 0, 1:
	default:
		return common.Address{}, invalidGrant(CheckSignature, "signature has an invalid recovery id")
	}
	rsv := make([]byte, crypto.SignatureLength)
	copy(rsv, sig)
	rsv[crypto.RecoveryIDOffset] = v
	pub, err := crypto.SigToPub(hash[:], rsv) // rejects r or s of zero or beyond the group order
	if err != nil {
		return common.Address{}, invalidGrant(CheckSignature, "signature is not a valid secp256k1 signature")
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// compactSignatureLength is the length of an EIP-2098 compact signature.
const compactSignatureLength = 64

// isKeySignature reports whether sig has the length of a secp256k1
// signature, 65 bytes or 64 in compact form, rather than of a contract
// wallet's (which may have any length, these included).
func isKeySignature(sig []byte) bool {
	return len(sig) == crypto.SignatureLength || len(sig) == compactSignatureLength
}

// expandCompact turns an EIP-2098 compact signature (r, yParityAndS) into
// the 65-byte form (r, s, v) with v of 0 or 1. EIP-2098 "Specification": the
// top bit of yParityAndS is the y parity and the other 255 bits are s, which
// is free to lend its top bit because EIP-2 keeps s at most n/2. So, as
// there, a compact signature whose s exceeds n/2, or whose r or s is out of
// range, is refused (ok is false).
func expandCompact(sig []byte) (full []byte, ok bool) {
	full = make([]byte, crypto.SignatureLength)
	copy(full, sig[:compactSignatureLength])
	full[crypto.RecoveryIDOffset] = sig[32] >> 7
	full[32] &= 0x7f
	r := new(big.Int).SetBytes(full[:32])
	s := new(big.Int).SetBytes(full[32:64])
	if !crypto.ValidateSignatureValues(full[crypto.RecoveryIDOffset], r, s, true) {
		return nil, false
	}
	return full, true
}

// TextHash returns the EIP-191 (version 0x45, personal_sign) hash of message:
// keccak256("\x19Ethereum Signed Message:\n" + decimal length + message).
func TextHash(message []byte) common.Hash {
	return crypto.Keccak256Hash(
		[]byte("\x19Ethereum Signed Message:\n"),
		[]byte(strconv.Itoa(len(message))),
		message,
	)
}

// parseSignature decodes a hex signature, with or without the 0x prefix.
func parseSignature(s string) ([]byte, error) {
	digits := s
	if len(digits) >= 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') {
		digits = digits[2:]
	}
	if len(digits) > 2*MaxSignatureBytes {
		return nil, invalidRequest(CheckSignature, "signature is too long", nil)
	}
	sig, err := hex.DecodeString(digits)
	if err != nil || len(sig) == 0 {
		return nil, invalidRequest(CheckSignature, "signature is not hex", err)
	}
	return sig, nil
}
