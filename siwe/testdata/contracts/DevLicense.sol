// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title DevLicense
/// @notice A developer-license-like contract for Signet's tests, modelled on
/// DIMO's developer licenses: the license has a set of enabled signer keys, and
/// ERC-1271 accepts a signature made by any of them.
contract DevLicense {
    /// ERC-1271 magic value: bytes4(keccak256("isValidSignature(bytes32,bytes)")).
    bytes4 internal constant MAGIC_VALUE = 0x1626ba7e;
    /// The answer for an invalid signature (ERC-1271 allows any non-magic value).
    bytes4 internal constant INVALID = 0xffffffff;

    /// Whether a key may sign for this license.
    mapping(address => bool) public isSigner;

    /// Emitted for every signer enabled at construction.
    event SignerEnabled(address indexed signer);

    constructor(address[] memory signers) {
        for (uint256 i = 0; i < signers.length; i++) {
            require(signers[i] != address(0), "DevLicense: zero signer");
            isSigner[signers[i]] = true;
            emit SignerEnabled(signers[i]);
        }
    }

    /// ERC-1271: returns the magic value iff ecrecover(hash, signature) is an
    /// enabled signer; reverts on a signature that is not 65 bytes.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        require(signature.length == 65, "DevLicense: signature must be 65 bytes");
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) {
            v += 27;
        }
        address signer = ecrecover(hash, v, r, s);
        if (signer != address(0) && isSigner[signer]) {
            return MAGIC_VALUE;
        }
        return INVALID;
    }
}
