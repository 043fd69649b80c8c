package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/signet-id/signet/siwe"
)

// sign signs a message from stdin with a private key, as a wallet's
// personal_sign does (EIP-191), so the headless APIs can be tried from a
// shell; --address prints the key's address instead.
func (m *Main) sign(args []string) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	keyHex := fs.String("key", "", "the private key, 0x and 64 hex digits (a test key: keep real keys in a wallet)")
	address := fs.Bool("address", false, "print the key's address instead of signing")
	if err := fs.Parse(args); err != nil {
		return usageOf(err)
	}
	if *keyHex == "" || fs.NArg() != 0 {
		return usagef("usage: signet sign --key 0x… [--address] < message")
	}
	key, err := crypto.HexToECDSA(strings.TrimPrefix(*keyHex, "0x"))
	if err != nil {
		return usagef("--key is not a secp256k1 private key in hex")
	}
	if *address {
		fmt.Fprintln(m.Stdout, crypto.PubkeyToAddress(key.PublicKey).Hex())
		return nil
	}
	in := m.Stdin
	if in == nil {
		in = os.Stdin
	}
	msg, err := io.ReadAll(io.LimitReader(in, siwe.MaxMessageBytes+1))
	if err != nil {
		return err
	}
	// A shell's $(…) and echo add or drop one trailing newline; an
	// EIP-4361 message never ends with one.
	text := strings.TrimSuffix(string(msg), "\n")
	sig, err := crypto.Sign(siwe.TextHash([]byte(text)).Bytes(), key)
	if err != nil {
		return err
	}
	sig[64] += 27
	fmt.Fprintln(m.Stdout, hexutil.Encode(sig))
	return nil
}
