package siwe

import (
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/siwe/stellar"
)

// Account is the account a verified sign-in speaks for, whatever its chain.
type Account struct {
	// Subject is its CAIP-10 account ID: "eip155:<chainId>:<EIP-55
	// address>" or "stellar:pubnet:<G…>".
	Subject string
	// Address is its address as its chain writes it: the EIP-55 address,
	// or the Stellar account ID (SEP-23 "G…"); CAIP-10's account_address.
	Address string
}

// CAIP10 returns the CAIP-10 account ID of an Ethereum account on an EIP-155
// chain, "eip155:<chainId>:<EIP-55 address>" (ChainAgnostic namespaces,
// eip155/caip10.md), which is the subject Signet gives it.
func CAIP10(chainID int64, address common.Address) string {
	return "eip155:" + strconv.FormatInt(chainID, 10) + ":" + address.Hex()
}

// accountOf is the account of a challenge's signer: the Stellar account,
// or the Ethereum address on the chain its message names.
func accountOf(c *Challenge, chainID int64, address common.Address) Account {
	if c.IsStellar() {
		return Account{Subject: stellar.CAIP10(c.Stellar), Address: c.Stellar.String()}
	}
	return Account{Subject: CAIP10(chainID, address), Address: address.Hex()}
}

// AccountAddress is the account_address of a CAIP-10 account ID
// ("namespace:reference:account_address", CAIP-10 §Syntax): the address as
// its chain writes it, for every kind of account.
func AccountAddress(subject string) string {
	return subject[strings.LastIndexByte(subject, ':')+1:]
}
