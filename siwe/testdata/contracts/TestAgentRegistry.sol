// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title TestAgentRegistry
/// @notice A minimal ERC-8004 identity registry for Signet's tests: an
/// ERC-721 whose tokens are agents, each with a registration file URI
/// (tokenURI) and an optional agent wallet (getAgentWallet, as in the
/// upgradeable v1.1 registry). Anyone may register an agent for any owner,
/// which real registries do not allow; only the owner transfers it or sets
/// its agent wallet.
contract TestAgentRegistry {
    /// ERC-721's answer for a token that does not exist (OpenZeppelin 5).
    error ERC721NonexistentToken(uint256 tokenId);
    /// The caller is not the agent's owner.
    error NotOwner(uint256 tokenId);

    /// ERC-721 Transfer, also emitted when an agent is registered.
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    /// ERC-8004 Registered.
    event Registered(uint256 indexed agentId, string agentURI, address indexed owner);

    mapping(uint256 => address) private _owners;
    mapping(uint256 => string) private _uris;
    mapping(uint256 => address) private _wallets;
    uint256 private _next = 1;

    /// Registers a new agent for owner with its registration file URI and
    /// returns its ID (1, 2, …).
    function register(address owner, string calldata agentURI) external returns (uint256 agentId) {
        agentId = _next++;
        _owners[agentId] = owner;
        _uris[agentId] = agentURI;
        emit Transfer(address(0), owner, agentId);
        emit Registered(agentId, agentURI, owner);
    }

    /// ERC-721 ownerOf: reverts for an agent that does not exist.
    function ownerOf(uint256 tokenId) public view returns (address) {
        address owner = _owners[tokenId];
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
        return owner;
    }

    /// ERC-721 metadata tokenURI: the agent's registration file.
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        ownerOf(tokenId);
        return _uris[tokenId];
    }

    /// ERC-8004 v1.1 getAgentWallet: the agent's verified wallet, or zero.
    function getAgentWallet(uint256 agentId) external view returns (address) {
        ownerOf(agentId);
        return _wallets[agentId];
    }

    /// Sets the agent wallet; only the owner may.
    function setAgentWallet(uint256 agentId, address wallet) external {
        if (ownerOf(agentId) != msg.sender) revert NotOwner(agentId);
        _wallets[agentId] = wallet;
    }

    /// ERC-721 transferFrom, by the owner only (no approvals); the agent
    /// wallet is cleared, as ERC-8004 does on transfer.
    function transferFrom(address from, address to, uint256 tokenId) external {
        if (ownerOf(tokenId) != msg.sender || from != msg.sender) revert NotOwner(tokenId);
        _owners[tokenId] = to;
        delete _wallets[tokenId];
        emit Transfer(from, to, tokenId);
    }
}
