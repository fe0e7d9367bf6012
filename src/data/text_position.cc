// MelodAI — licensed under the Apache License 2.0.
// Byte offset -> line:column conversion and UTF-8 checking for reader error messages.
#include "data/text_position.h"

#include <algorithm>
#include <cstdint>

namespace melodai::data {

TextPosition PositionOf(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  TextPosition position;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++position.line;
      line_start = i + 1;
    }
  }
  size_t column = 1;
  for (size_t i = line_start; i < offset; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const bool continuation = (byte & 0xC0) == 0x80;
    if (!continuation) ++column;
  }
  position.column = column;
  return position;
}

std::string FormatPosition(std::string_view file_name, std::string_view text, size_t offset) {
  const size_t clamped = std::min(offset, text.size());
  const TextPosition position = PositionOf(text, clamped);
  std::string result(file_name);
  result += ':';
  result += std::to_string(position.line);
  result += ':';
  result += std::to_string(position.column);
  result += " (byte ";
  result += std::to_string(clamped);
  result += ')';
  return result;
}

size_t FindInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // Sequence length, payload bits of the lead byte, smallest code point of that length.
    size_t length = 0;
    uint32_t code_point = 0;
    uint32_t minimum = 0;
    if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1Fu;
      minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0Fu;
      minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07u;
      minimum = 0x10000;
    } else {
      return i;
    }
    if (text.size() - i < length) return i;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    if (code_point < minimum || code_point > 0x10FFFF) return i;
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return i;
    i += length;
  }
  return text.size();
}

}  // namespace melodai::data
