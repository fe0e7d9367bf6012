// MelodAI — licensed under the Apache License 2.0.
// Text positions for reader error messages: turns a byte offset into a 1-based line and
// column, formats the "file:line:column (byte N)" prefix every text reader uses, and finds
// the first invalid UTF-8 byte.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace melodai::data {

// A 1-based line and column. Lines end at '\n' (a "\r\n" pair counts as one line end);
// columns count UTF-8 characters (bytes that are not continuation bytes), so a column
// matches what an editor shows for valid UTF-8 text.
struct TextPosition {
  size_t line = 1;
  size_t column = 1;
};

// Returns the position of byte `offset` in `text`. An offset past the end is clamped to
// text.size() (the position just after the last byte), so callers may pass the end of a
// truncated input. Linear in `offset`: meant for error paths, not for hot loops.
TextPosition PositionOf(std::string_view text, size_t offset);

// Returns "<file_name>:<line>:<column> (byte <offset>)" for byte `offset` of `text`, with
// the offset clamped as in PositionOf.
std::string FormatPosition(std::string_view file_name, std::string_view text, size_t offset);

// Returns the offset of the first byte of `text` that does not start a valid UTF-8 sequence
// (overlong forms, surrogates and code points above U+10FFFF count as invalid), or
// text.size() when all of it is valid.
size_t FindInvalidUtf8(std::string_view text);

}  // namespace melodai::data
