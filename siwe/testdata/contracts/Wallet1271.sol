// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Wallet1271
/// @notice A minimal ERC-1271 contract wallet for Signet's tests: it has one
/// owner key, and a signature is valid when it is a 65-byte ECDSA signature of
/// the hash by that owner.
contract Wallet1271 {
    /// ERC-1271 magic value: bytes4(keccak256("isValidSignature(bytes32,bytes)")).
    bytes4 internal constant MAGIC_VALUE = 0x1626ba7e;
    /// The answer for an invalid signature (ERC-1271 allows any non-magic value).
    bytes4 internal constant INVALID = 0xffffffff;

    /// The key that signs for this wallet.
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    /// ERC-1271: returns the magic value iff ecrecover(hash, signature) is the owner.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 65) {
            return INVALID;
        }
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) {
            v += 27;
        }
        address signer = ecrecover(hash, v, r, s);
        if (signer != address(0) && signer == owner) {
            return MAGIC_VALUE;
        }
        return INVALID;
    }
}
