// MelodAI — licensed under the Apache License 2.0.
// Validator and client key files: a small JSON document holding an Ed25519 seed and its public
// key, written with owner-only permissions. The public key is checked against the seed on
// read so that a corrupted or hand-edited file is caught before it signs anything.
#pragma once

#include <filesystem>

#include "core/status.h"
#include "crypto/ed25519.h"

namespace melodai::node {

// Writes `key` to `path` atomically with mode 0600. kAlreadyExists when the file exists and
// !overwrite; kIoError on a write failure.
core::Status WriteKeyFile(const std::filesystem::path& path, const crypto::Ed25519KeyPair& key,
                          bool overwrite = false);

// Reads a key file. kNotFound when missing, kDataLoss (naming the file and the field) when
// it is malformed or its public key does not match its seed.
core::Result<crypto::Ed25519KeyPair> ReadKeyFile(const std::filesystem::path& path);

// Lower-case hex of a public key, and its inverse (kInvalidArgument on bad hex or length).
std::string PublicKeyToHex(const crypto::Ed25519PublicKey& key);
core::Result<crypto::Ed25519PublicKey> PublicKeyFromHex(std::string_view hex);

}  // namespace melodai::node
