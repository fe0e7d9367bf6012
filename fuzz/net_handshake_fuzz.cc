// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for the handshake messages a node receives from anyone who connects. The
// input is split at its first byte into a HELLO payload and an AUTH payload and fed to a real
// accepting Handshake (4 validators); decoded HELLOs must re-encode to the same bytes. No
// input may crash it or authenticate without validator 1's signature.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "crypto/ed25519.h"
#include "net/handshake.h"

namespace {

struct Keys {
  Keys() {
    for (uint8_t i = 0; i < 4; ++i) {
      std::array<uint8_t, 32> seed{};
      seed.fill(static_cast<uint8_t>(i + 1));
      pairs.push_back(melodai::crypto::Ed25519KeyPair::FromSeed(seed));
      public_keys.push_back(pairs.back().public_key());
    }
  }
  std::vector<melodai::crypto::Ed25519KeyPair> pairs;
  std::vector<melodai::crypto::Ed25519PublicKey> public_keys;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Keys keys;
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = std::min<size_t>(data[0] * 2, input.size());
  const std::string_view hello_bytes = input.substr(0, split);
  const std::string_view auth_bytes = input.substr(split);

  auto hello = melodai::net::DecodeHello(hello_bytes);
  if (hello.ok()) MELODAI_CHECK(melodai::net::EncodeHello(*hello) == hello_bytes);
  auto signature = melodai::net::DecodeAuth(auth_bytes);
  if (signature.ok()) MELODAI_CHECK(melodai::net::EncodeAuth(*signature) == auth_bytes);

  melodai::crypto::Digest32 network{};  // All zero: the seeds use the same.
  melodai::net::Nonce nonce{};
  melodai::net::Handshake acceptor(0, keys.pairs[0], keys.public_keys, network, nonce,
                                   std::nullopt);
  if (!acceptor.OnHello(hello_bytes).ok()) {
    MELODAI_CHECK(acceptor.state() == melodai::net::Handshake::State::kFailed);
    return 0;
  }
  const melodai::core::Status status = acceptor.OnAuth(auth_bytes);
  MELODAI_CHECK_EQ(status.ok(), acceptor.peer_id().has_value());
  return 0;
}
