// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// The part of the ENS registry that the resolver needs.
interface ENSOwners {
    function owner(bytes32 node) external view returns (address);
}

/// @title TestENSResolver
/// @notice A minimal ENS resolver for Signet's tests with the two records that
/// primary names use: addr (EIP-137, the node's Ethereum address) and name
/// (ENSIP-3, the name of a reverse node). As in ENS's public resolver, only the
/// node's owner in the registry given to the constructor may set its records.
contract TestENSResolver {
    ENSOwners public immutable registry;

    mapping(bytes32 => address) private addrs;
    mapping(bytes32 => string) private names;

    event AddrChanged(bytes32 indexed node, address a);
    event NameChanged(bytes32 indexed node, string name);

    modifier authorised(bytes32 node) {
        require(registry.owner(node) == msg.sender, "not the node's owner");
        _;
    }

    constructor(ENSOwners registry_) {
        registry = registry_;
    }

    /// Sets node's address record.
    function setAddr(bytes32 node, address a) external authorised(node) {
        addrs[node] = a;
        emit AddrChanged(node, a);
    }

    /// EIP-137 addr(bytes32), selector 0x3b3b57de: node's address (zero for none).
    function addr(bytes32 node) external view returns (address payable) {
        return payable(addrs[node]);
    }

    /// Sets node's name record (for a reverse node: the primary name it claims).
    function setName(bytes32 node, string calldata name_) external authorised(node) {
        names[node] = name_;
        emit NameChanged(node, name_);
    }

    /// ENSIP-3 name(bytes32), selector 0x691f3431: node's name ("" for none).
    function name(bytes32 node) external view returns (string memory) {
        return names[node];
    }
}
