// MelodAI — licensed under the Apache License 2.0.
// The ChaCha20 (libsodium) and AES-128-CTR (OpenSSL EVP) keystream generators.
#include "crypto/prg.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <string>

#include "core/check.h"
#include "crypto/internal/sodium_init.h"

namespace melodai::crypto {
namespace {

static_assert(std::endian::native == std::endian::little, "words are read little-endian");
static_assert(crypto_stream_chacha20_ietf_KEYBYTES == kPrgSeedBytes);

// Keystream = encryption of zeros. Reading a constant zero block (hot in L1) instead of
// clearing the output first saves a pass over the output.
constexpr size_t kZeroBytes = 16 * 1024;
static_assert(kZeroBytes % 64 == 0, "whole ChaCha20 blocks per step");
constexpr std::array<uint8_t, kZeroBytes> kZeros{};

// Invariants: leftover_[leftover_offset_, 64) holds keystream bytes not yet handed out;
// block_counter_ is the index of the next block to generate.
class ChaChaPrg final : public Prg {
 public:
  explicit ChaChaPrg(std::span<const uint8_t, kPrgSeedBytes> seed) {
    internal::EnsureSodiumInitialized();
    std::copy(seed.begin(), seed.end(), key_.begin());
  }
  ~ChaChaPrg() override {
    sodium_memzero(key_.data(), key_.size());
    sodium_memzero(leftover_.data(), leftover_.size());
  }
  PrgKind kind() const override { return PrgKind::kChaCha20; }

  void Generate(std::span<uint8_t> out) override {
    size_t done = std::min(out.size(), kBlockBytes - leftover_offset_);
    std::memcpy(out.data(), leftover_.data() + leftover_offset_, done);
    leftover_offset_ += done;
    const size_t whole = (out.size() - done) / kBlockBytes * kBlockBytes;
    if (whole > 0) {
      Blocks(out.data() + done, whole);
      done += whole;
    }
    if (done < out.size()) {
      Blocks(leftover_.data(), kBlockBytes);
      leftover_offset_ = out.size() - done;
      std::memcpy(out.data() + done, leftover_.data(), leftover_offset_);
    }
  }

 private:
  static constexpr size_t kBlockBytes = 64;

  void Blocks(uint8_t* target, size_t size) {
    MELODAI_CHECK_EQ(size % kBlockBytes, 0u);
    MELODAI_CHECK_LE(block_counter_ + size / kBlockBytes, uint64_t{1} << 32);
    static constexpr std::array<uint8_t, crypto_stream_chacha20_ietf_NONCEBYTES> kNonce{};
    for (size_t done = 0; done < size; done += kZeroBytes) {
      const size_t part = std::min(kZeroBytes, size - done);
      crypto_stream_chacha20_ietf_xor_ic(target + done, kZeros.data(), part, kNonce.data(),
                                         static_cast<uint32_t>(block_counter_), key_.data());
      block_counter_ += part / kBlockBytes;
    }
  }

  std::array<uint8_t, kPrgSeedBytes> key_{};
  std::array<uint8_t, kBlockBytes> leftover_{};
  size_t leftover_offset_ = kBlockBytes;
  uint64_t block_counter_ = 0;
};

// Invariant: context_ is an initialised AES-128-CTR encryption context; EVP keeps the
// position inside the stream across calls.
class AesCtrPrg final : public Prg {
 public:
  explicit AesCtrPrg(std::span<const uint8_t, kPrgSeedBytes> seed) : context_(EVP_CIPHER_CTX_new()) {
    MELODAI_CHECK_MSG(context_ != nullptr, "EVP_CIPHER_CTX_new failed");
    const int result =
        EVP_EncryptInit_ex(context_, EVP_aes_128_ctr(), nullptr, seed.data(), seed.data() + 16);
    MELODAI_CHECK_EQ(result, 1);
  }
  ~AesCtrPrg() override { EVP_CIPHER_CTX_free(context_); }  // Also wipes the key schedule.
  AesCtrPrg(const AesCtrPrg&) = delete;
  AesCtrPrg& operator=(const AesCtrPrg&) = delete;
  PrgKind kind() const override { return PrgKind::kAes128Ctr; }

  void Generate(std::span<uint8_t> out) override {
    size_t done = 0;
    while (done < out.size()) {
      const size_t size = std::min(kZeroBytes, out.size() - done);
      int written = 0;
      const int result = EVP_EncryptUpdate(context_, out.data() + done, &written, kZeros.data(),
                                           static_cast<int>(size));
      MELODAI_CHECK_EQ(result, 1);
      MELODAI_CHECK_EQ(static_cast<size_t>(written), size);
      done += size;
    }
  }

 private:
  EVP_CIPHER_CTX* context_;
};

}  // namespace

std::string_view PrgKindName(PrgKind kind) {
  switch (kind) {
    case PrgKind::kChaCha20:
      return "chacha";
    case PrgKind::kAes128Ctr:
      return "aes";
  }
  return "unknown";
}

core::Result<PrgKind> ParsePrgKind(std::string_view name) {
  if (name == "chacha" || name == "chacha20") return PrgKind::kChaCha20;
  if (name == "aes" || name == "aes-ctr") return PrgKind::kAes128Ctr;
  return core::InvalidArgumentError("unknown PRG \"" + std::string(name) +
                                    "\" (expected aes or chacha)");
}

std::unique_ptr<Prg> Prg::Create(PrgKind kind, std::span<const uint8_t, kPrgSeedBytes> seed) {
  switch (kind) {
    case PrgKind::kChaCha20:
      return std::make_unique<ChaChaPrg>(seed);
    case PrgKind::kAes128Ctr:
      return std::make_unique<AesCtrPrg>(seed);
  }
  MELODAI_CHECK_MSG(false, "unknown PrgKind");
  return nullptr;
}

void Prg::GenerateWords(std::span<uint32_t> out) {
  // Writing through unsigned char is allowed for any object; the host is little-endian.
  Generate(std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size_bytes()));
}

void Prg::GenerateWords(std::span<uint64_t> out) {
  Generate(std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size_bytes()));
}

}  // namespace melodai::crypto
