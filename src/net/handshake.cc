// MelodAI — licensed under the Apache License 2.0.
// HELLO/AUTH encoding and the handshake state machine.
#include "net/handshake.h"

#include <fmt/format.h>

#include "core/bytes.h"

namespace melodai::net {
namespace {

constexpr uint8_t kKindHello = 1;
constexpr uint8_t kKindAuth = 2;
constexpr std::string_view kAuthDomain = "melodai/net/auth/v1";

core::Status CheckHeader(core::ByteReader& reader, uint8_t kind, std::string_view what) {
  uint32_t magic = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU32(magic, std::string(what) + ".magic"));
  if (magic != kHandshakeMagic) {
    return core::DataLossError(fmt::format("{}: bad magic {:#010x}", what, magic));
  }
  uint8_t actual_kind = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(actual_kind, std::string(what) + ".kind"));
  if (actual_kind != kind) {
    return core::DataLossError(fmt::format("{}: message kind {} where {} was expected", what,
                                           actual_kind, kind));
  }
  return core::Status::Ok();
}

}  // namespace

std::string EncodeHello(const Hello& hello) {
  core::ByteWriter writer;
  writer.PutU32(kHandshakeMagic);
  writer.PutU8(kKindHello);
  writer.PutU8(hello.version);
  writer.PutRaw(hello.network_id.data(), hello.network_id.size());
  writer.PutU32(hello.peer_id);
  writer.PutRaw(hello.nonce.data(), hello.nonce.size());
  MELODAI_CHECK_EQ(writer.size(), kHelloBytes);
  return writer.Release();
}

core::Result<Hello> DecodeHello(std::string_view bytes) {
  if (bytes.size() != kHelloBytes) {
    return core::DataLossError(
        fmt::format("hello: {} bytes where {} were expected", bytes.size(), kHelloBytes));
  }
  core::ByteReader reader(bytes);
  MELODAI_RETURN_IF_ERROR(CheckHeader(reader, kKindHello, "hello"));
  Hello hello;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(hello.version, "hello.version"));
  MELODAI_RETURN_IF_ERROR(
      reader.GetRaw(hello.network_id.data(), hello.network_id.size(), "hello.network_id"));
  MELODAI_RETURN_IF_ERROR(reader.GetU32(hello.peer_id, "hello.peer_id"));
  MELODAI_RETURN_IF_ERROR(reader.GetRaw(hello.nonce.data(), hello.nonce.size(), "hello.nonce"));
  MELODAI_CHECK(reader.done());  // The size was checked above.
  return hello;
}

std::string EncodeAuth(const crypto::Ed25519Signature& signature) {
  core::ByteWriter writer;
  writer.PutU32(kHandshakeMagic);
  writer.PutU8(kKindAuth);
  writer.PutRaw(signature.data(), signature.size());
  MELODAI_CHECK_EQ(writer.size(), kAuthBytes);
  return writer.Release();
}

core::Result<crypto::Ed25519Signature> DecodeAuth(std::string_view bytes) {
  if (bytes.size() != kAuthBytes) {
    return core::DataLossError(
        fmt::format("auth: {} bytes where {} were expected", bytes.size(), kAuthBytes));
  }
  core::ByteReader reader(bytes);
  MELODAI_RETURN_IF_ERROR(CheckHeader(reader, kKindAuth, "auth"));
  crypto::Ed25519Signature signature{};
  MELODAI_RETURN_IF_ERROR(reader.GetRaw(signature.data(), signature.size(), "auth.signature"));
  return signature;
}

std::string AuthTranscript(const crypto::Digest32& network_id, PeerId signer, PeerId verifier,
                           const Nonce& signer_nonce, const Nonce& verifier_nonce) {
  core::ByteWriter writer;
  writer.PutString(kAuthDomain);
  writer.PutRaw(network_id.data(), network_id.size());
  writer.PutU32(signer);
  writer.PutU32(verifier);
  writer.PutRaw(signer_nonce.data(), signer_nonce.size());
  writer.PutRaw(verifier_nonce.data(), verifier_nonce.size());
  return writer.Release();
}

Handshake::Handshake(PeerId self, const crypto::Ed25519KeyPair& key,
                     std::span<const crypto::Ed25519PublicKey> validator_keys,
                     const crypto::Digest32& network_id, const Nonce& own_nonce,
                     std::optional<PeerId> expected_peer)
    : self_(self),
      key_(key),
      validator_keys_(validator_keys),
      network_id_(network_id),
      own_nonce_(own_nonce),
      expected_peer_(expected_peer) {
  MELODAI_CHECK_LT(self, validator_keys.size());
  MELODAI_CHECK(!expected_peer.has_value() || *expected_peer < validator_keys.size());
}

std::string Handshake::HelloPayload() const {
  Hello hello;
  hello.network_id = network_id_;
  hello.peer_id = self_;
  hello.nonce = own_nonce_;
  return EncodeHello(hello);
}

core::Status Handshake::Fail(core::Status status) {
  MELODAI_CHECK(!status.ok());
  state_ = State::kFailed;
  return status;
}

core::Result<std::string> Handshake::OnHello(std::string_view payload) {
  if (state_ != State::kAwaitHello) {
    return Fail(core::FailedPreconditionError("handshake: unexpected hello"));
  }
  auto hello = DecodeHello(payload);
  if (!hello.ok()) return Fail(hello.status());
  if (hello->version != kHandshakeVersion) {
    return Fail(core::FailedPreconditionError(
        fmt::format("handshake: peer speaks version {}, we speak {}", hello->version,
                    kHandshakeVersion)));
  }
  if (hello->network_id != network_id_) {
    return Fail(core::FailedPreconditionError("handshake: peer belongs to another network"));
  }
  if (hello->peer_id >= validator_keys_.size() || hello->peer_id == self_) {
    return Fail(core::FailedPreconditionError(
        fmt::format("handshake: peer claims invalid validator id {}", hello->peer_id)));
  }
  if (expected_peer_.has_value() && hello->peer_id != *expected_peer_) {
    return Fail(core::FailedPreconditionError(fmt::format(
        "handshake: dialled validator {} but peer claims {}", *expected_peer_, hello->peer_id)));
  }
  peer_hello_ = *hello;
  state_ = State::kAwaitAuth;
  const std::string transcript =
      AuthTranscript(network_id_, self_, hello->peer_id, own_nonce_, hello->nonce);
  const crypto::Ed25519Signature signature = key_.Sign(
      std::span(reinterpret_cast<const uint8_t*>(transcript.data()), transcript.size()));
  return EncodeAuth(signature);
}

core::Status Handshake::OnAuth(std::string_view payload) {
  if (state_ != State::kAwaitAuth) {
    return Fail(core::FailedPreconditionError("handshake: unexpected auth"));
  }
  MELODAI_CHECK(peer_hello_.has_value());
  auto signature = DecodeAuth(payload);
  if (!signature.ok()) return Fail(signature.status());
  const PeerId peer = peer_hello_->peer_id;
  const std::string transcript =
      AuthTranscript(network_id_, peer, self_, peer_hello_->nonce, own_nonce_);
  if (!crypto::Ed25519Verify(
          validator_keys_[peer],
          std::span(reinterpret_cast<const uint8_t*>(transcript.data()), transcript.size()),
          *signature)) {
    return Fail(core::FailedPreconditionError(
        fmt::format("handshake: bad signature from claimed validator {}", peer)));
  }
  state_ = State::kDone;
  return core::Status::Ok();
}

}  // namespace melodai::net
