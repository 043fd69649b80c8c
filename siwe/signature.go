package siwe

import (
	"context"
	"encoding/hex"
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

// EOAChecker accepts 65-byte secp256k1 signatures (r, s, v) made by the
// account's own key, recovered with ecrecover.
type EOAChecker struct{}

var _ SignatureChecker = EOAChecker{}

// CheckSignature recovers the signer of hash from sig and requires it to be account.
func (EOAChecker) CheckSignature(_ context.Context, _ int64, account common.Address, hash common.Hash, sig []byte) (common.Address, error) {
	signer, err := Recover(hash, sig)
	if err != nil {
		return common.Address{}, err
	}
	if signer != account {
		return common.Address{}, invalidGrant("signature does not match the address")
	}
	return signer, nil
}

// Recover returns the key that made a 65-byte secp256k1 signature (r, s, v)
// over hash; v may be 27/28 (Ethereum's legacy encoding) or 0/1. Failures
// are [*Error] values with CodeInvalidGrant.
func Recover(hash common.Hash, sig []byte) (common.Address, error) {
	if len(sig) != crypto.SignatureLength {
		return common.Address{}, invalidGrant("signature must be 65 bytes")
	}
	v := sig[crypto.RecoveryIDOffset]
	switch v {
	case 27, 28:
		v -= 27
	case 0, 1:
	default:
		return common.Address{}, invalidGrant("signature has an invalid recovery id")
	}
	rsv := make([]byte, crypto.SignatureLength)
	copy(rsv, sig)
	rsv[crypto.RecoveryIDOffset] = v
	pub, err := crypto.SigToPub(hash[:], rsv) // rejects r or s of zero or beyond the group order
	if err != nil {
		return common.Address{}, invalidGrant("signature is not a valid secp256k1 signature")
	}
	return crypto.PubkeyToAddress(*pub), nil
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
		return nil, invalidRequest("signature is too long", nil)
	}
	sig, err := hex.DecodeString(digits)
	if err != nil || len(sig) == 0 {
		return nil, invalidRequest("signature is not hex", err)
	}
	return sig, nil
}
