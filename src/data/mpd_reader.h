// MelodAI — licensed under the Apache License 2.0.
// Reader for the Spotify Million Playlist Dataset slice files (mpd.slice.<lo>-<hi>.json), in
// both the full MPD schema and the reduced schema of trimmed copies. One playlist becomes one
// sequence; tracks are interned into the catalog by track_uri.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/dataset.h"

namespace melodai::data {

// Limits on untrusted input.
inline constexpr size_t kMpdMaxSliceBytes = size_t{1} << 30;  // one slice file, 1 GiB
inline constexpr size_t kMpdMaxJsonDepth = 64;                // nesting inside ignored fields

// Schema accepted (everything else is validated as JSON and then ignored, so newer fields
// do not break the reader):
//   root:     {"playlists": [playlist, ...]}         required; "info" and others ignored
//   playlist: "pid" integer (required), "name" string (optional, default ""),
//             "tracks" array of track (required, may be empty)
//   track:    "track_uri" non-empty string (required), "track_name" and "artist_name" strings
//             (optional, default ""), "pos" integer (optional; when present it must equal
//             the track's index in the array, since array order is the playlist order)
// A field that appears twice in the same object is an error. The result has no timestamps
// and no weights; external_id = pid, name = playlist name, every item is a MediaType::kTrack
// whose artist is artist_name.
//
// Errors carry one message of the form
//   "<file>:<line>:<column> (byte <offset>): playlists[2].tracks[5].track_uri: expected a
//    string, found a number"
// where the position is where the parser stood when it found the problem.

// Parses one slice held in memory. `file_name` only labels errors and becomes the dataset's
// description. Returns kDataLoss for malformed, truncated or schema-violating JSON,
// kResourceExhausted when `json` exceeds kMpdMaxSliceBytes or memory runs out.
// Thread-safe (no shared state); `json` is copied into a padded buffer.
core::Result<Dataset> ParseMpdSlice(std::string_view json, std::string_view file_name);

// Reads and parses one slice file; errors name the path. kNotFound when it does not exist,
// kIoError when it cannot be read, and the codes of ParseMpdSlice. description = path.
core::Result<Dataset> ReadMpdFile(const std::filesystem::path& path);

// Reads every "mpd.slice.*.json" regular file of `folder` (sorted by file name in byte order)
// into one Dataset with source "mpd" and description folder.string(). Items are numbered in
// order of first appearance and sequences follow file order, then array order, whatever the
// number of threads. Files are parsed on `pool` when given (it must outlive the call), else
// on the calling thread. On failure returns the error of the first failing file in name
// order: kNotFound for a missing folder or one without slice files, kIoError for unreadable
// files, kDataLoss for malformed content, kResourceExhausted for oversized input.
core::Result<Dataset> ReadMpdFolder(const std::filesystem::path& folder,
                                    core::ThreadPool* pool = nullptr);

}  // namespace melodai::data
