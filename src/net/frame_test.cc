// MelodAI — licensed under the Apache License 2.0.
// Tests of the length-prefixed frame codec: round trips, arbitrary splits of the byte stream,
// empty frames, and the size limit (which must fail before any payload is buffered).
#include "net/frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/rng.h"

namespace melodai::net {
namespace {

std::vector<std::string> DrainAll(FrameDecoder& decoder) {
  std::vector<std::string> frames;
  while (true) {
    auto frame = decoder.Next();
    EXPECT_TRUE(frame.ok()) << frame.status().ToString();
    if (!frame.ok() || !frame->has_value()) return frames;
    frames.push_back(std::move(**frame));
  }
}

TEST(FrameTest, HeaderIsLittleEndianLength) {
  const std::string frame = EncodeFrame("abc");
  ASSERT_EQ(frame.size(), kFrameHeaderBytes + 3);
  EXPECT_EQ(frame.substr(0, 4), std::string("\x03\x00\x00\x00", 4));
  EXPECT_EQ(frame.substr(4), "abc");
}

TEST(FrameTest, RoundTripsUnderRandomSplits) {
  const uint64_t seed = 20261122;
  SCOPED_TRACE("seed " + std::to_string(seed));
  core::Rng rng(seed);
  std::vector<std::string> payloads = {"", "x", std::string(1000, '\0')};
  for (int i = 0; i < 50; ++i) {
    std::string payload(rng.Uniform(3000), '\0');
    for (char& c : payload) c = static_cast<char>(rng.NextU32());
    payloads.push_back(std::move(payload));
  }
  std::string stream;
  for (const std::string& payload : payloads) stream += EncodeFrame(payload);

  FrameDecoder decoder(4096);
  std::vector<std::string> received;
  size_t offset = 0;
  while (offset < stream.size()) {
    const size_t chunk = std::min<size_t>(1 + rng.Uniform(700), stream.size() - offset);
    decoder.Feed(std::string_view(stream).substr(offset, chunk));
    offset += chunk;
    for (std::string& frame : DrainAll(decoder)) received.push_back(std::move(frame));
  }
  EXPECT_EQ(received, payloads);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameTest, PartialHeaderAndPayloadWaitForMoreBytes) {
  FrameDecoder decoder(100);
  const std::string frame = EncodeFrame("hello");
  decoder.Feed(frame.substr(0, 2));
  EXPECT_TRUE(DrainAll(decoder).empty());
  decoder.Feed(frame.substr(2, 5));
  EXPECT_TRUE(DrainAll(decoder).empty());
  decoder.Feed(frame.substr(7));
  EXPECT_EQ(DrainAll(decoder), std::vector<std::string>{"hello"});
}

TEST(FrameTest, OversizeFrameFailsAtTheHeaderAndStaysFailed) {
  FrameDecoder decoder(10);
  decoder.Feed(EncodeFrame("0123456789"));  // Exactly at the limit: accepted.
  EXPECT_EQ(DrainAll(decoder), std::vector<std::string>{"0123456789"});
  // Only the header of an 11-byte frame: the decoder must refuse without waiting for it.
  decoder.Feed(std::string("\x0b\x00\x00\x00", 4));
  auto next = decoder.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), core::StatusCode::kResourceExhausted);
  EXPECT_NE(next.status().message().find("11 bytes"), std::string::npos);
  decoder.Feed(EncodeFrame("ok"));
  EXPECT_FALSE(decoder.Next().ok());
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameTest, HugeAnnouncedLengthIsRefused) {
  FrameDecoder decoder;
  decoder.Feed(std::string("\xff\xff\xff\xff", 4));
  auto next = decoder.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), core::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace melodai::net
