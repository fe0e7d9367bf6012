// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for the transaction decoder: any bytes give either kDataLoss or a
// transaction whose encoding is exactly the input (strict, canonical decoding).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "ledger/chain/transaction.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto tx = melodai::ledger::DecodeTransaction(bytes);
  if (!tx.ok()) {
    MELODAI_CHECK(tx.status().code() == melodai::core::StatusCode::kDataLoss);
    return 0;
  }
  MELODAI_CHECK(melodai::ledger::EncodeTransaction(*tx) == bytes);
  MELODAI_CHECK_LE(tx->payload.size(), melodai::ledger::kMaxTransactionPayloadBytes);
  // Random signatures must simply fail to verify.
  (void)melodai::ledger::VerifyTransactionSignature(*tx);
  return 0;
}
