// MelodAI — licensed under the Apache License 2.0.
// Reader for the Last.fm HetRec 2011 "hetrec2011-lastfm-2k" folder: artists become catalog
// items, each user's play counts become one weighted sequence, friends a social graph and
// user tag assignments the items' tags.
#pragma once

#include <filesystem>

#include "core/status.h"
#include "data/dataset.h"

namespace melodai::data {

// Reads the tab-separated files of a HetRec Last.fm folder (each with a header line; LF or
// CRLF line ends):
//   artists.dat             id, name, url, pictureURL       (required)
//   user_artists.dat        userID, artistID, weight        (required)
//   user_friends.dat        userID, friendID                (optional)
//   tags.dat                tagID, tagValue                 (required with the next one)
//   user_taggedartists.dat  userID, artistID, tagID, day, month, year (optional)
// Result, with source "lastfm" and description = the folder:
//   - catalog: one item per artist of artists.dat in file order, uri "lastfm:artist:<id>", name
//     and artist both the artist's name (an artist is its own item's artist). Artists that
//     user_artists.dat names but artists.dat lacks are appended in order of first use, with an
//     empty name; their artist key is then the uri so they stay distinct artists.
//   - sequences: one per user with plays, by ascending userID; items in file order, weights =
//     play counts, external_id = userID, no timestamps, empty name.
//   - social_edges: user_friends.dat as undirected edges between sequence indices, each once
//     with a < b, sorted; rows naming a user without plays, and self-loops, are skipped.
//   - item_tags: for each item its distinct tags from user_taggedartists.dat, most assigned
//     first (ties by tag id); tag ids index tag_names, which holds tags.dat's values in file
//     order as raw bytes (some are Latin-1, not UTF-8). Assignments to artists outside the
//     catalog are skipped.
// Returns kNotFound when the folder or a required file is missing, kIoError when a file cannot
// be read, and kDataLoss naming "<file>:<line>" for a bad header, a short row, a malformed or
// out-of-range number, a duplicate artist or tag id, or a tag id that tags.dat lacks.
// Thread-safe (touches no shared state).
core::Result<Dataset> ReadLastfmFolder(const std::filesystem::path& folder);

}  // namespace melodai::data
