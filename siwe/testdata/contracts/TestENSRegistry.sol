// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title TestENSRegistry
/// @notice A minimal ENS registry (EIP-137 "ENS registry specification") for
/// Signet's tests: each node (an EIP-137 namehash) has an owner and a resolver.
/// The deployer owns the root node; only a node's owner may set its owner or
/// resolver or create its subnodes. No TTLs, operators or events beyond the
/// spec's own.
contract TestENSRegistry {
    struct Record {
        address owner;
        address resolver;
    }

    mapping(bytes32 => Record) private records;

    event NewOwner(bytes32 indexed node, bytes32 indexed label, address owner);
    event Transfer(bytes32 indexed node, address owner);
    event NewResolver(bytes32 indexed node, address resolver);

    modifier authorised(bytes32 node) {
        require(records[node].owner == msg.sender, "not the node's owner");
        _;
    }

    constructor() {
        records[bytes32(0)].owner = msg.sender;
    }

    /// Transfers node to owner_.
    function setOwner(bytes32 node, address owner_) external authorised(node) {
        records[node].owner = owner_;
        emit Transfer(node, owner_);
    }

    /// Gives the subnode keccak256(node ++ label) to owner_ and returns it.
    function setSubnodeOwner(bytes32 node, bytes32 label, address owner_) external authorised(node) returns (bytes32) {
        bytes32 subnode = keccak256(abi.encodePacked(node, label));
        records[subnode].owner = owner_;
        emit NewOwner(node, label, owner_);
        return subnode;
    }

    /// Sets node's resolver.
    function setResolver(bytes32 node, address resolver_) external authorised(node) {
        records[node].resolver = resolver_;
        emit NewResolver(node, resolver_);
    }

    /// The owner of node (zero for none).
    function owner(bytes32 node) external view returns (address) {
        return records[node].owner;
    }

    /// The resolver of node (zero for none): registry.resolver(bytes32), selector 0x0178b8bf.
    function resolver(bytes32 node) external view returns (address) {
        return records[node].resolver;
    }
}
