// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for the block, header and commit-certificate decoders: any bytes give
// kDataLoss or a value that re-encodes to exactly the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "ledger/chain/block.h"
#include "ledger/chain/certificate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace melodai::ledger;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto block = DecodeBlock(bytes);
  if (block.ok()) {
    MELODAI_CHECK(EncodeBlock(*block) == bytes);
    MELODAI_CHECK_LE(block->transactions.size(), kMaxBlockTransactions);
    (void)TransactionsRoot(block->transactions);
  } else {
    MELODAI_CHECK(block.status().code() == melodai::core::StatusCode::kDataLoss);
  }
  auto header = DecodeBlockHeader(bytes);
  if (header.ok()) MELODAI_CHECK(EncodeBlockHeader(*header) == bytes);
  auto certificate = DecodeCommitCertificate(bytes);
  if (certificate.ok()) MELODAI_CHECK(EncodeCommitCertificate(*certificate) == bytes);
  return 0;
}
