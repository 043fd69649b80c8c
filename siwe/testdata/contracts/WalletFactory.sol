// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Wallet1271} from "./Wallet1271.sol";

/// @title WalletFactory
/// @notice Deploys Wallet1271 with CREATE2, so that a wallet's address is known
/// before it exists (the counterfactual wallets of ERC-6492).
contract WalletFactory {
    /// Emitted when a wallet is deployed.
    event Deployed(address indexed wallet, address indexed owner, bytes32 salt);

    /// Deploys a Wallet1271 for owner at
    /// address(keccak256(0xff ++ this ++ salt ++ keccak256(creationCode ++ abi.encode(owner)))[12:]).
    function deploy(address owner, bytes32 salt) external returns (address wallet) {
        wallet = address(new Wallet1271{salt: salt}(owner));
        emit Deployed(wallet, owner, salt);
    }
}
