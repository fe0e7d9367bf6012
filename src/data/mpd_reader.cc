// MelodAI — licensed under the Apache License 2.0.
// MPD slice parsing on simdjson On Demand (one pass; strings stay views into the file buffer
// unless they hold escapes) and the folder loader: files are parsed in parallel into per-file
// track lists that are merged into one catalog strictly in file order while parsing goes on.
#include "data/mpd_reader.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/check.h"
#include "core/file_util.h"
#include "data/text_position.h"

namespace melodai::data {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

constexpr std::string_view kSlicePrefix = "mpd.slice.";
constexpr std::string_view kSliceSuffix = ".json";
// Reservation hints. A reduced-schema track entry takes about 220 bytes of pretty-printed
// JSON; a slightly smaller figure avoids most reallocations without wasting much.
constexpr size_t kJsonBytesPerTrackEstimate = 200;
constexpr size_t kTracksPerPlaylistEstimate = 64;
constexpr size_t kCatalogBytesPerItemEstimate = 80;  // uri (36 bytes) plus a track name
// Caps on the up-front reservation of a folder load (the output may still grow beyond).
constexpr size_t kMaxReservedEvents = size_t{1} << 27;
constexpr size_t kMaxReservedItems = size_t{1} << 22;
// Item and sequence ids must stay below the StringPool limit of 2^31 strings.
constexpr size_t kMaxItems = (size_t{1} << 31) - 1;
constexpr size_t kMaxSequences = (size_t{1} << 31) - 1;
constexpr size_t kNoIndex = SIZE_MAX;
constexpr size_t kTokenExcerptBytes = 40;  // longest JSON token quoted in an error

std::string_view JsonTypeName(od::json_type type) {
  switch (type) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "an unknown value";
}

std::string ErrorText(error_code error) {
  switch (error) {
    case simdjson::INCORRECT_TYPE:
      return "value has the wrong type";
    case simdjson::NUMBER_ERROR:
      return "malformed number";
    case simdjson::NUMBER_OUT_OF_RANGE:
      return "number out of range";
    case simdjson::STRING_ERROR:
      return "malformed string (bad escape sequence)";
    case simdjson::UTF8_ERROR:
      return "invalid UTF-8";
    case simdjson::UNCLOSED_STRING:
      return "unterminated string (truncated file?)";
    case simdjson::UNESCAPED_CHARS:
      return "unescaped control character inside a string";
    case simdjson::TAPE_ERROR:
      return "malformed JSON (unexpected character or structure)";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      return "unterminated array or object (truncated file?)";
    case simdjson::EMPTY:
      return "empty document";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      return "invalid literal (expected true, false or null)";
    case simdjson::DEPTH_ERROR:
      return "nesting too deep";
    case simdjson::TRAILING_CONTENT:
      return "content after the end of the JSON document";
    default:
      return std::string("malformed JSON: ") + simdjson::error_message(error);
  }
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// simdjson's first pass reports errors without a position; find the offending byte here.
size_t Stage1ErrorOffset(std::string_view text, error_code error) {
  if (error == simdjson::UTF8_ERROR) return FindInvalidUtf8(text);
  bool in_string = false;
  size_t string_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!in_string) {
      if (c == '"') {
        in_string = true;
        string_start = i;
      }
      continue;
    }
    if (c == '\\') {
      ++i;
    } else if (c == '"') {
      in_string = false;
    } else if (static_cast<unsigned char>(c) < 0x20 && error == simdjson::UNESCAPED_CHARS) {
      return i;
    }
  }
  if (in_string && error == simdjson::UNCLOSED_STRING) return string_start;
  return text.size();
}

// simdjson checks the bracket balance of the whole document before it starts and then
// reports an unbalanced one at the root. Finds the first structural problem instead: a
// closing bracket without a match, text after the top-level value, or an unterminated
// container. Returns the offset and sets `what`, or returns kNoIndex if none was found.
size_t DiagnoseStructure(std::string_view text, std::string& what) {
  std::vector<char> closers;  // the closing bracket each open container expects
  bool in_string = false;
  bool root_done = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (IsJsonSpace(c)) continue;
    if (root_done) {
      what = "content after the end of the JSON document";
      return i;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      closers.push_back(c == '{' ? '}' : ']');
    } else if (c == '}' || c == ']') {
      if (closers.empty() || closers.back() != c) {
        what = std::string("unexpected '") + c + "' (brackets do not match)";
        return i;
      }
      closers.pop_back();
      root_done = closers.empty();
    }
  }
  if (in_string || !closers.empty()) {
    what = "unterminated array or object (truncated file?)";
    return text.size();
  }
  return kNoIndex;
}

// Field bits for duplicate and presence checks.
enum FieldBit : uint32_t {
  kPlaylistsBit = 1,
  kPidBit = 2,
  kNameBit = 4,
  kTracksBit = 8,
  kTrackUriBit = 16,
  kTrackNameBit = 32,
  kArtistNameBit = 64,
  kPosBit = 128,
};

// One track entry of a parsed slice; the strings point into ParsedSlice::document or
// ParsedSlice::arena.
struct TrackRow {
  std::string_view uri;
  std::string_view name;
  std::string_view artist;
  uint64_t uri_hash = 0;  // core::Hash64(uri), computed by the parsing thread
};

// One playlist of a parsed slice: its tracks are tracks[previous track_end, track_end).
struct PlaylistRow {
  int64_t pid = 0;
  std::string_view name;
  size_t track_end = 0;
};

// A slice parsed but not yet merged into a catalog. Parsing finds the strings and hashes the
// uris, so it runs on any thread; the merge, which needs the shared catalog, stays cheap.
// Strings without escape sequences are views into `document` (no copy); unescaped ones are
// copied into `arena`. Both buffers are heap blocks that do not move when the slice moves.
// Invariants: arena holds arena_capacity bytes, of which the first arena_used are taken.
struct ParsedSlice {
  simdjson::padded_string document;
  std::unique_ptr<char[]> arena;
  size_t arena_capacity = 0;
  size_t arena_used = 0;
  std::vector<TrackRow> tracks;
  std::vector<PlaylistRow> playlists;

  // Copies `value` into the arena, creating it with `capacity` bytes on first use.
  // REQUIRES: the copies fit; guaranteed with capacity = the JSON text size, because an
  // unescaped string is never longer than its JSON token and tokens do not overlap.
  std::string_view Store(std::string_view value, size_t capacity) {
    if (value.empty()) return {};
    if (arena == nullptr) {
      arena = std::make_unique_for_overwrite<char[]>(capacity);
      arena_capacity = capacity;
    }
    MELODAI_CHECK_LE(value.size(), arena_capacity - arena_used);
    char* target = arena.get() + arena_used;
    std::memcpy(target, value.data(), value.size());
    arena_used += value.size();
    return std::string_view(target, value.size());
  }
};

// Parses one slice document into a ParsedSlice. Not reusable: one instance per document.
// `parser` and the buffer behind `json` must outlive the instance.
class SliceParser {
 public:
  SliceParser(od::parser& parser, simdjson::padded_string json, std::string_view file_name)
      : parser_(parser), text_(json.data(), json.size()), file_name_(file_name) {
    slice_.document = std::move(json);  // moves the pointer; text_ stays valid
  }

  core::Result<ParsedSlice> Parse();

 private:
  core::Status ParseRoot();
  core::Status ParsePlaylists(od::value value);
  core::Status ParsePlaylist(od::value value);
  core::Status ParsePlaylistField(std::string_view key, od::value value, uint32_t& seen,
                                  int64_t& pid, std::string_view& name);
  core::Status ParseTracks(od::value value);
  core::Status ParseTrack(od::value value, size_t index);
  core::Status ParseTrackField(std::string_view key, od::value value, size_t index, uint32_t& seen,
                               std::string_view (&strings)[3]);
  core::Status ValidateIgnored(od::value value, size_t depth, std::string_view field);
  core::Status ValidateContainer(od::value value, od::json_type type, size_t depth,
                                 std::string_view field);

  core::Status ReadString(od::value value, std::string_view field, std::string_view& out);
  core::Status ReadKey(od::field& field, std::string_view& key);
  core::Status ReadInt64(od::value value, std::string_view field, int64_t& out);
  core::Status MarkSeen(uint32_t& seen, uint32_t bit, std::string_view field);
  template <typename T>
  core::Status Next(simdjson::simdjson_result<T> result, std::string_view field, T& out);

  size_t CurrentOffset();
  std::string Path(std::string_view field) const;
  core::Status FailAt(size_t offset, std::string_view field, std::string_view what) const;
  core::Status Fail(std::string_view field, std::string_view what) {
    return FailAt(CurrentOffset(), field, what);
  }
  core::Status TypeFail(od::value& value, std::string_view field, std::string_view expected,
                        error_code error);
  core::Status JsonFail(std::string_view field, error_code error);
  core::Status NumberFail(od::value& value, std::string_view field);

  od::parser& parser_;
  std::string_view text_;  // the document, owned by slice_.document
  std::string_view file_name_;
  od::document doc_;
  ParsedSlice slice_;
  size_t playlist_index_ = kNoIndex;
  size_t track_index_ = kNoIndex;
};

size_t SliceParser::CurrentOffset() {
  const char* location = nullptr;
  if (doc_.current_location().get(location) != simdjson::SUCCESS) return text_.size();
  const auto begin = reinterpret_cast<uintptr_t>(text_.data());
  const auto at = reinterpret_cast<uintptr_t>(location);
  if (at < begin || at - begin > text_.size()) return text_.size();
  return at - begin;
}

std::string SliceParser::Path(std::string_view field) const {
  std::string path;
  if (playlist_index_ != kNoIndex) path = "playlists[" + std::to_string(playlist_index_) + "]";
  if (track_index_ != kNoIndex) path += ".tracks[" + std::to_string(track_index_) + "]";
  if (!field.empty()) {
    if (!path.empty()) path += '.';
    path += field;
  }
  return path;
}

core::Status SliceParser::FailAt(size_t offset, std::string_view field,
                                 std::string_view what) const {
  std::string message = FormatPosition(file_name_, text_, offset);
  const std::string path = Path(field);
  if (!path.empty()) message += ": " + path;
  message += ": ";
  message += what;
  return core::DataLossError(std::move(message));
}

core::Status SliceParser::TypeFail(od::value& value, std::string_view field,
                                   std::string_view expected, error_code error) {
  if (error != simdjson::INCORRECT_TYPE) return JsonFail(field, error);
  od::json_type found = od::json_type::null;
  if (value.type().get(found) != simdjson::SUCCESS) return JsonFail(field, error);
  if (found == od::json_type::number && expected == "an integer") return NumberFail(value, field);
  return Fail(field,
              "expected " + std::string(expected) + ", found " + std::string(JsonTypeName(found)));
}

template <typename T>
core::Status SliceParser::Next(simdjson::simdjson_result<T> result, std::string_view field,
                               T& out) {
  if (const error_code error = std::move(result).get(out); error != simdjson::SUCCESS) {
    return JsonFail(field, error);
  }
  return core::Status::Ok();
}

// get_int64 reports fractions, exponents, malformed numbers and integers beyond int64 alike
// as a type mismatch; tell them apart for the message.
core::Status SliceParser::NumberFail(od::value& value, std::string_view field) {
  const size_t offset = CurrentOffset();  // get_double below may move past the number
  std::string_view token = value.raw_json_token();
  while (!token.empty() && IsJsonSpace(token.back())) token.remove_suffix(1);
  const std::string shown(token.substr(0, kTokenExcerptBytes));
  double number = 0.0;
  if (value.get_double().get(number) != simdjson::SUCCESS) {
    return FailAt(offset, field, "malformed number " + shown);
  }
  const std::string_view digits = token.substr(!token.empty() && token[0] == '-' ? 1 : 0);
  const bool integral =
      !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (integral) return FailAt(offset, field, "integer outside the int64 range: " + shown);
  return FailAt(offset, field, "expected an integer, found " + shown);
}

core::Status SliceParser::JsonFail(std::string_view field, error_code error) {
  // A truncated document typically surfaces as one of these at its very end; the bracket
  // scan then gives a clearer message.
  const bool structural = error == simdjson::INCOMPLETE_ARRAY_OR_OBJECT ||
                          (error == simdjson::TAPE_ERROR && CurrentOffset() >= text_.size());
  if (structural) {
    std::string what;
    const size_t offset = DiagnoseStructure(text_, what);
    if (offset != kNoIndex) return FailAt(offset, field, what);
  }
  return Fail(field, ErrorText(error));
}

// Strings without escapes are returned as views into the document; simdjson's first pass
// already checked their UTF-8 and control characters. Others are unescaped and copied.
core::Status SliceParser::ReadString(od::value value, std::string_view field,
                                     std::string_view& out) {
  // The raw token runs from the opening quote to the next structural character: the string
  // and then only whitespace. Without a backslash, no quote inside can be escaped, so the
  // last quote of the token closes the string.
  std::string_view token = value.raw_json_token();
  while (token.size() > 1 && IsJsonSpace(token.back())) token.remove_suffix(1);
  if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
    const std::string_view content = token.substr(1, token.size() - 2);
    od::raw_json_string raw;
    if (std::memchr(content.data(), '\\', content.size()) == nullptr &&
        value.get_raw_json_string().get(raw) == simdjson::SUCCESS) {  // consumes the value
      out = content;
      return core::Status::Ok();
    }
  }
  std::string_view unescaped;
  if (const error_code error = value.get_string().get(unescaped); error != simdjson::SUCCESS) {
    return TypeFail(value, field, "a string", error);
  }
  out = slice_.Store(unescaped, text_.size());
  return core::Status::Ok();
}

// Keys are compared as written when they have no escapes (the parser's first pass
// guarantees a closing quote); escaped keys are unescaped by simdjson.
core::Status SliceParser::ReadKey(od::field& field, std::string_view& key) {
  const char* begin = reinterpret_cast<const char*>(field.key().raw());
  const char* end = begin;
  while (*end != '"' && *end != '\\') ++end;
  if (*end == '"') {
    key = std::string_view(begin, static_cast<size_t>(end - begin));
    return core::Status::Ok();
  }
  return Next(field.unescaped_key(), "", key);
}

core::Status SliceParser::ReadInt64(od::value value, std::string_view field, int64_t& out) {
  if (const error_code error = value.get_int64().get(out); error != simdjson::SUCCESS) {
    return TypeFail(value, field, "an integer", error);
  }
  return core::Status::Ok();
}

core::Status SliceParser::MarkSeen(uint32_t& seen, uint32_t bit, std::string_view field) {
  if ((seen & bit) != 0) return Fail(field, "field appears twice in the same object");
  seen |= bit;
  return core::Status::Ok();
}

core::Result<ParsedSlice> SliceParser::Parse() {
  if (const error_code error = parser_.iterate(slice_.document).get(doc_);
      error != simdjson::SUCCESS) {
    if (error == simdjson::MEMALLOC) {
      return core::ResourceExhaustedError(std::string(file_name_) + ": out of memory");
    }
    if (error == simdjson::UTF8_ERROR || error == simdjson::UNCLOSED_STRING ||
        error == simdjson::UNESCAPED_CHARS) {
      return FailAt(Stage1ErrorOffset(text_, error), "", ErrorText(error));
    }
    std::string what = ErrorText(error);
    size_t offset = DiagnoseStructure(text_, what);
    if (offset == kNoIndex) offset = text_.size();
    return FailAt(offset, "", what);
  }
  const size_t tracks_estimate = text_.size() / kJsonBytesPerTrackEstimate;
  slice_.tracks.reserve(tracks_estimate);
  slice_.playlists.reserve(tracks_estimate / kTracksPerPlaylistEstimate + 1);
  MELODAI_RETURN_IF_ERROR(ParseRoot());
  return std::move(slice_);
}

core::Status SliceParser::ParseRoot() {
  od::json_type type = od::json_type::null;
  MELODAI_RETURN_IF_ERROR(Next(doc_.type(), "", type));
  if (type != od::json_type::object) {
    return Fail("",
                "expected an object at the top level, found " + std::string(JsonTypeName(type)));
  }
  const size_t start = CurrentOffset();
  od::object root;
  MELODAI_RETURN_IF_ERROR(Next(doc_.get_object(), "", root));
  uint32_t seen = 0;
  for (auto field_result : root) {
    od::field field;
    std::string_view key;
    MELODAI_RETURN_IF_ERROR(Next(std::move(field_result), "", field));
    MELODAI_RETURN_IF_ERROR(ReadKey(field, key));
    if (key == "playlists") {
      MELODAI_RETURN_IF_ERROR(MarkSeen(seen, kPlaylistsBit, key));
      MELODAI_RETURN_IF_ERROR(ParsePlaylists(field.value()));
    } else {
      MELODAI_RETURN_IF_ERROR(ValidateIgnored(field.value(), 1, key));
    }
  }
  if ((seen & kPlaylistsBit) == 0) {
    return FailAt(start, "", "missing required field \"playlists\"");
  }
  // current_location() fails with OUT_OF_BOUNDS exactly when every token was consumed.
  const char* trailing = nullptr;
  if (doc_.current_location().get(trailing) == simdjson::SUCCESS) {
    return Fail("", "content after the end of the JSON document");
  }
  return core::Status::Ok();
}

core::Status SliceParser::ParsePlaylists(od::value value) {
  od::array playlists;
  if (const error_code error = value.get_array().get(playlists); error != simdjson::SUCCESS) {
    return TypeFail(value, "playlists", "an array", error);
  }
  size_t index = 0;
  for (auto element : playlists) {
    playlist_index_ = index;
    od::value playlist;
    MELODAI_RETURN_IF_ERROR(Next(std::move(element), "", playlist));
    MELODAI_RETURN_IF_ERROR(ParsePlaylist(playlist));
    ++index;
  }
  playlist_index_ = kNoIndex;
  return core::Status::Ok();
}

core::Status SliceParser::ParsePlaylist(od::value value) {
  const size_t start = CurrentOffset();
  od::object object;
  if (const error_code error = value.get_object().get(object); error != simdjson::SUCCESS) {
    return TypeFail(value, "", "an object", error);
  }
  uint32_t seen = 0;
  int64_t pid = 0;
  std::string_view name;
  for (auto field_result : object) {
    od::field field;
    std::string_view key;
    MELODAI_RETURN_IF_ERROR(Next(std::move(field_result), "", field));
    MELODAI_RETURN_IF_ERROR(ReadKey(field, key));
    MELODAI_RETURN_IF_ERROR(ParsePlaylistField(key, field.value(), seen, pid, name));
  }
  if ((seen & kPidBit) == 0) return FailAt(start, "", "missing required field \"pid\"");
  if ((seen & kTracksBit) == 0) return FailAt(start, "", "missing required field \"tracks\"");
  slice_.playlists.push_back(PlaylistRow{pid, name, slice_.tracks.size()});
  return core::Status::Ok();
}

core::Status SliceParser::ParsePlaylistField(std::string_view key, od::value value, uint32_t& seen,
                                             int64_t& pid, std::string_view& name) {
  if (key == "tracks") {
    MELODAI_RETURN_IF_ERROR(MarkSeen(seen, kTracksBit, key));
    return ParseTracks(value);
  }
  if (key == "pid") {
    MELODAI_RETURN_IF_ERROR(MarkSeen(seen, kPidBit, key));
    return ReadInt64(value, key, pid);
  }
  if (key == "name") {
    MELODAI_RETURN_IF_ERROR(MarkSeen(seen, kNameBit, key));
    return ReadString(value, key, name);
  }
  return ValidateIgnored(value, 1, key);
}

core::Status SliceParser::ParseTracks(od::value value) {
  od::array tracks;
  if (const error_code error = value.get_array().get(tracks); error != simdjson::SUCCESS) {
    return TypeFail(value, "tracks", "an array", error);
  }
  size_t index = 0;
  for (auto element : tracks) {
    track_index_ = index;
    od::value track;
    MELODAI_RETURN_IF_ERROR(Next(std::move(element), "", track));
    MELODAI_RETURN_IF_ERROR(ParseTrack(track, index));
    ++index;
  }
  track_index_ = kNoIndex;
  return core::Status::Ok();
}

core::Status SliceParser::ParseTrack(od::value value, size_t index) {
  const size_t start = CurrentOffset();
  od::object object;
  if (const error_code error = value.get_object().get(object); error != simdjson::SUCCESS) {
    return TypeFail(value, "", "an object", error);
  }
  uint32_t seen = 0;
  std::string_view strings[3];  // track_uri, track_name, artist_name
  for (auto field_result : object) {
    od::field field;
    std::string_view key;
    MELODAI_RETURN_IF_ERROR(Next(std::move(field_result), "", field));
    MELODAI_RETURN_IF_ERROR(ReadKey(field, key));
    MELODAI_RETURN_IF_ERROR(ParseTrackField(key, field.value(), index, seen, strings));
  }
  if ((seen & kTrackUriBit) == 0) {
    return FailAt(start, "", "missing required field \"track_uri\"");
  }
  slice_.tracks.push_back(TrackRow{strings[0], strings[1], strings[2], core::Hash64(strings[0])});
  return core::Status::Ok();
}

core::Status SliceParser::ParseTrackField(std::string_view key, od::value value, size_t index,
                                          uint32_t& seen, std::string_view (&strings)[3]) {
  if (key == "track_uri") {
    MELODAI_RETURN_IF_ERROR(MarkSeen(seen, kTrackUriBit, key));
    const size_t offset = CurrentOffset();
    MELODAI_RETURN_IF_ERROR(ReadString(value, key, strings[0]));
    if (strings[0].empty()) return FailAt(offset, key, "must not be empty");
    return core::Status::Ok();
  }
  if (key == "track_name") {
    MELODAI_RETURN_IF_ERROR(MarkSeen(seen, kTrackNameBit, key));
    return ReadString(value, key, strings[1]);
  }
  if (key == "artist_name") {
    MELODAI_RETURN_IF_ERROR(MarkSeen(seen, kArtistNameBit, key));
    return ReadString(value, key, strings[2]);
  }
  if (key == "pos") {
    MELODAI_RETURN_IF_ERROR(MarkSeen(seen, kPosBit, key));
    const size_t offset = CurrentOffset();
    int64_t pos = 0;
    MELODAI_RETURN_IF_ERROR(ReadInt64(value, key, pos));
    if (pos < 0 || static_cast<uint64_t>(pos) != index) {
      return FailAt(offset, key,
                    "expected " + std::to_string(index) +
                        " (the index of the track in the "
                        "array), found " +
                        std::to_string(pos));
    }
    return core::Status::Ok();
  }
  return ValidateIgnored(value, 1, key);
}

// Ignored fields are still validated, so malformed JSON is never silently accepted.
core::Status SliceParser::ValidateIgnored(od::value value, size_t depth, std::string_view field) {
  od::json_type type = od::json_type::null;
  MELODAI_RETURN_IF_ERROR(Next(value.type(), field, type));
  switch (type) {
    case od::json_type::array:
    case od::json_type::object:
      return ValidateContainer(value, type, depth, field);
    case od::json_type::number: {
      // get_double accepts every valid JSON number in the double range, including integers
      // beyond 64 bits, which get_number rejects.
      double number = 0.0;
      return Next(value.get_double(), field, number);
    }
    case od::json_type::string: {
      std::string_view text;
      return Next(value.get_string(), field, text);
    }
    case od::json_type::boolean: {
      bool flag = false;
      if (value.get_bool().get(flag) != simdjson::SUCCESS) {
        return Fail(field, ErrorText(simdjson::T_ATOM_ERROR));
      }
      return core::Status::Ok();
    }
    case od::json_type::null: {
      bool is_null = false;
      if (value.is_null().get(is_null) != simdjson::SUCCESS || !is_null) {
        return Fail(field, ErrorText(simdjson::N_ATOM_ERROR));
      }
      return core::Status::Ok();
    }
  }
  return Fail(field, "unknown JSON value");
}

core::Status SliceParser::ValidateContainer(od::value value, od::json_type type, size_t depth,
                                            std::string_view field) {
  if (depth > kMpdMaxJsonDepth) {
    return Fail(field, "nesting deeper than " + std::to_string(kMpdMaxJsonDepth) + " levels");
  }
  if (type == od::json_type::array) {
    od::array array;
    MELODAI_RETURN_IF_ERROR(Next(value.get_array(), field, array));
    for (auto element : array) {
      od::value child;
      MELODAI_RETURN_IF_ERROR(Next(std::move(element), field, child));
      MELODAI_RETURN_IF_ERROR(ValidateIgnored(child, depth + 1, field));
    }
    return core::Status::Ok();
  }
  od::object object;
  MELODAI_RETURN_IF_ERROR(Next(value.get_object(), field, object));
  for (auto field_result : object) {
    od::field child;
    std::string_view key;
    MELODAI_RETURN_IF_ERROR(Next(std::move(field_result), field, child));
    MELODAI_RETURN_IF_ERROR(Next(child.unescaped_key(), field, key));
    MELODAI_RETURN_IF_ERROR(ValidateIgnored(child.value(), depth + 1, field));
  }
  return core::Status::Ok();
}

core::Result<ParsedSlice> ParsePadded(od::parser& parser, simdjson::padded_string json,
                                      std::string_view file_name) {
  return SliceParser(parser, std::move(json), file_name).Parse();
}

// Reads `path` straight into a padded buffer: one copy from the page cache, no re-copy.
core::Result<simdjson::padded_string> ReadPadded(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::string message = "cannot open " + path.string() + ": " + std::strerror(errno);
    if (errno == ENOENT) return core::NotFoundError(std::move(message));
    return core::IoError(std::move(message));
  }
  struct ::stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return core::IoError("cannot read " + path.string() + ": not a regular file");
  }
  const auto size = static_cast<size_t>(info.st_size);
  if (size > kMpdMaxSliceBytes) {
    ::close(fd);
    return core::ResourceExhaustedError(path.string() + ": " + std::to_string(size) +
                                        " bytes exceed the slice limit of " +
                                        std::to_string(kMpdMaxSliceBytes));
  }
  simdjson::padded_string buffer(size);
  if (buffer.data() == nullptr) {
    ::close(fd);
    return core::ResourceExhaustedError(path.string() + ": out of memory");
  }
  size_t done = 0;
  while (done < size) {
    const ssize_t got = ::read(fd, buffer.data() + done, size - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      std::string reason = got < 0 ? std::strerror(errno) : "file shrank while being read";
      ::close(fd);
      return core::IoError("cannot read " + path.string() + ": " + reason);
    }
    done += static_cast<size_t>(got);
  }
  ::close(fd);
  return buffer;
}

// Appends the playlists of `slice` to `target`, interning tracks in order of appearance. The
// uri hashes computed while parsing feed the catalog's own index, so the serial merge costs one
// probe per track and copies strings only for new tracks.
// kResourceExhausted when the ids would pass the StringPool limit.
core::Status MergeSlice(const ParsedSlice& slice, std::string_view file_name, Dataset& target,
                        std::vector<ItemId>& items) {
  if (target.catalog.size() + slice.tracks.size() > kMaxItems ||
      target.sequences.size() + slice.playlists.size() > kMaxSequences) {
    return core::ResourceExhaustedError(std::string(file_name) +
                                        ": too many tracks or playlists in total");
  }
  size_t begin = 0;
  for (const PlaylistRow& playlist : slice.playlists) {
    items.clear();
    for (size_t track = begin; track < playlist.track_end; ++track) {
      const TrackRow& row = slice.tracks[track];
      items.push_back(target.catalog.AddItemHashed(row.uri, row.uri_hash, row.name, row.artist,
                                                   MediaType::kTrack));
    }
    target.sequences.Append(items, {}, {}, playlist.pid, playlist.name);
    begin = playlist.track_end;
  }
  return core::Status::Ok();
}

// Parses one padded document and merges it into a fresh Dataset.
core::Result<Dataset> ParseOne(simdjson::padded_string json, std::string_view file_name) {
  od::parser parser;
  MELODAI_ASSIGN_OR_RETURN(const ParsedSlice slice,
                           ParsePadded(parser, std::move(json), file_name));
  Dataset dataset;
  dataset.source = "mpd";
  dataset.description = std::string(file_name);
  std::vector<ItemId> items;
  MELODAI_RETURN_IF_ERROR(MergeSlice(slice, file_name, dataset, items));
  return dataset;
}

}  // namespace

core::Result<Dataset> ParseMpdSlice(std::string_view json, std::string_view file_name) {
  if (json.size() > kMpdMaxSliceBytes) {
    return core::ResourceExhaustedError(std::string(file_name) + ": " +
                                        std::to_string(json.size()) +
                                        " bytes exceed the slice limit");
  }
  simdjson::padded_string padded(json.data(), json.size());
  if (padded.data() == nullptr) {
    return core::ResourceExhaustedError(std::string(file_name) + ": out of memory");
  }
  return ParseOne(std::move(padded), file_name);
}

core::Result<Dataset> ReadMpdFile(const std::filesystem::path& path) {
  MELODAI_ASSIGN_OR_RETURN(simdjson::padded_string padded, ReadPadded(path));
  return ParseOne(std::move(padded), path.string());
}

namespace {

// Loads a list of slice files: workers take files in name order, parse them into per-file
// datasets and publish them; whoever holds merge_mutex_ appends published files to merged_
// strictly in index order, so the result never depends on timing.
// Invariants: slots [0, merged_count_) are merged and freed; once stopped_ is set nothing
// more is merged and status_ holds the error of the first failing file.
class FolderLoad {
 public:
  FolderLoad(std::vector<std::filesystem::path> files, size_t worker_count)
      : files_(std::move(files)),
        slots_(std::make_unique<Slot[]>(files_.size())),
        parsers_(worker_count) {
    ReserveOutput();
  }

  // Parses and merges every file; REQUIRES: called once.
  void Run(core::ThreadPool* pool);
  // The merged dataset, or the first error in file order. REQUIRES: Run() returned.
  core::Result<Dataset> Finish(const std::filesystem::path& folder);

 private:
  struct Slot {
    std::optional<core::Result<ParsedSlice>> result;
    std::atomic<bool> ready{false};
  };

  void ReserveOutput();
  void Work(size_t worker);
  void Publish(size_t index, core::Result<ParsedSlice> result);
  void MergePublished();
  void MergeReady();

  const std::vector<std::filesystem::path> files_;
  std::unique_ptr<Slot[]> slots_;
  std::vector<od::parser> parsers_;  // one per worker index
  std::atomic<size_t> next_file_{0};
  std::atomic<size_t> first_failed_{SIZE_MAX};
  std::atomic<size_t> merged_count_{0};  // written only under merge_mutex_
  std::atomic<bool> stopped_{false};     // written only under merge_mutex_
  std::mutex merge_mutex_;
  Dataset merged_;             // GUARDED_BY(merge_mutex_)
  core::Status status_;        // GUARDED_BY(merge_mutex_)
  std::vector<ItemId> items_;  // GUARDED_BY(merge_mutex_)
};

void FolderLoad::Run(core::ThreadPool* pool) {
  if (pool == nullptr || pool->thread_count() == 1) {
    Work(0);
    return;
  }
  MELODAI_CHECK_EQ(parsers_.size(), pool->thread_count());
  // One chunk per thread; each chunk pulls files from next_file_ until none are left.
  pool->ParallelFor(pool->thread_count(), 1,
                    [this](size_t, size_t, size_t worker) { Work(worker); });
}

// Sizes the output from the total file size, so that building it writes each page once
// instead of copying on every doubling. Only a hint: the containers still grow past it.
void FolderLoad::ReserveOutput() {
  size_t total_bytes = 0;
  for (const std::filesystem::path& file : files_) {
    std::error_code error;
    const uintmax_t size = std::filesystem::file_size(file, error);
    if (!error) total_bytes += static_cast<size_t>(size);
  }
  const size_t events = std::min(total_bytes / kJsonBytesPerTrackEstimate, kMaxReservedEvents);
  const size_t items = std::min(events / 2, kMaxReservedItems);
  merged_.sequences.Reserve(events / kTracksPerPlaylistEstimate + 1, events);
  merged_.catalog.Reserve(items, items * kCatalogBytesPerItemEstimate);
}

void FolderLoad::Work(size_t worker) {
  MELODAI_CHECK_LT(worker, parsers_.size());
  while (true) {
    const size_t index = next_file_.fetch_add(1);
    if (index >= files_.size()) return;
    // Files after a known failure are never merged, so do not spend time on them.
    if (index > first_failed_.load()) continue;
    core::Result<simdjson::padded_string> padded = ReadPadded(files_[index]);
    if (!padded.ok()) {
      Publish(index, padded.status());
      continue;
    }
    Publish(index, ParsePadded(parsers_[worker], std::move(*padded), files_[index].string()));
  }
}

void FolderLoad::Publish(size_t index, core::Result<ParsedSlice> result) {
  const bool failed = !result.ok();
  slots_[index].result.emplace(std::move(result));
  slots_[index].ready.store(true);
  if (failed) {
    size_t known = first_failed_.load();
    while (index < known && !first_failed_.compare_exchange_weak(known, index)) {
    }
  }
  MergeReady();
}

// REQUIRES: merge_mutex_ held.
void FolderLoad::MergePublished() {
  size_t next = merged_count_.load();
  while (!stopped_.load() && next < files_.size() && slots_[next].ready.load()) {
    const core::Result<ParsedSlice>& result = *slots_[next].result;
    status_ = result.ok() ? MergeSlice(*result, files_[next].string(), merged_, items_)
                          : result.status();
    slots_[next].result.reset();  // frees the file buffer
    if (!status_.ok()) stopped_.store(true);
    merged_count_.store(++next);
  }
}

void FolderLoad::MergeReady() {
  while (true) {
    std::unique_lock lock(merge_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;  // The holder merges; Finish() catches anything left.
    MergePublished();
    lock.unlock();
    // A worker may have published the next slot while we held the lock and given up on
    // try_lock; look once more so its file does not wait for Finish().
    const size_t next = merged_count_.load();
    if (stopped_.load() || next >= files_.size() || !slots_[next].ready.load()) return;
  }
}

core::Result<Dataset> FolderLoad::Finish(const std::filesystem::path& folder) {
  std::lock_guard lock(merge_mutex_);
  MergePublished();
  if (!status_.ok()) return status_;
  // Without an error every file was published, so the in-order merge reached the end.
  MELODAI_CHECK_EQ(merged_count_.load(), files_.size());
  merged_.source = "mpd";
  merged_.description = folder.string();
  return std::move(merged_);
}

}  // namespace

core::Result<Dataset> ReadMpdFolder(const std::filesystem::path& folder, core::ThreadPool* pool) {
  MELODAI_ASSIGN_OR_RETURN(std::vector<std::filesystem::path> files,
                           core::ListFiles(folder, kSlicePrefix, kSliceSuffix));
  if (files.empty()) {
    return core::NotFoundError("folder " + folder.string() + " holds no " +
                               std::string(kSlicePrefix) + "*" + std::string(kSliceSuffix) +
                               " files");
  }
  const size_t workers = pool == nullptr ? 1 : pool->thread_count();
  FolderLoad load(std::move(files), workers);
  load.Run(pool);
  return load.Finish(folder);
}

}  // namespace melodai::data
