// MelodAI — licensed under the Apache License 2.0.
// Synthetic music world: artists with genres and power-law popularity, tracks, and playlists
// built with genre mixtures and sequential coherence, written as Spotify MPD slice files so
// that the MPD reader (and every tool after it) can consume them like the real sample.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"

namespace melodai::data {

// Parameters of the world. The defaults are tuned so that the statistics of the default world
// (ComputeStats) resemble the real developer MPD sample: see docs/DATA.md for the comparison.
struct SyntheticOptions {
  uint64_t seed = 42;
  uint32_t playlist_count = 5000;
  uint32_t track_count = 40000;
  uint32_t artist_count = 8000;
  uint32_t genre_count = 24;
  uint32_t playlists_per_slice = 1000;

  // Popularity. Artist a of popularity rank r (0-based, a random permutation) has weight
  // (r + 1)^-artist_popularity_exponent; every artist gets one track and the remaining tracks
  // go to artists in proportion to their weights. Tracks get popularity ranks in a weighted
  // random order (weight = the artist's weight^hit_artist_bias, so 0 means ranks ignore the
  // artist) and the track of rank k (0-based) weight (k + 1)^-track_popularity_exponent.
  // Genre g (0-based, in the order of the genre name list) has weight
  // (g + 1)^-genre_popularity_exponent, for artists and playlists alike.
  double artist_popularity_exponent = 0.6;
  double hit_artist_bias = 0.5;
  double track_popularity_exponent = 0.8;
  double genre_popularity_exponent = 0.7;

  // Playlist length: a truncated exponential on [length_min, length_max] with scale
  // length_scale (a 250-track cap and a scale of 160 give mean 97, median 84 as in the sample).
  uint32_t length_min = 5;
  uint32_t length_max = 250;
  double length_scale = 160.0;

  // Genres per playlist: 1, 2 or 3 with these relative weights; the playlist's mixture over
  // its genres is Dirichlet(genre_mixture_alpha).
  std::array<double, 3> genres_per_playlist_weights = {0.5, 0.3, 0.2};
  double genre_mixture_alpha = 1.0;

  // Sequential coherence. Each playlist of length L draws how artist-focused it is,
  // s = Beta(same_artist_alpha, same_artist_beta) * L / (L + same_artist_ramp_length): most
  // playlists mix artists, a few (artist or album playlists) stay with one for long runs, and
  // short playlists are less focused than long ones. For each track after the first, draw u
  // in [0, 1) and walk this cascade:
  //   u < repeat_probability: repeat a track already in the playlist (real data has a few);
  //   then with probability s: another track of the previous track's artist;
  //   then with probability playlist_artist_probability * n / (n + playlist_artist_ramp_length)
  //     after n tracks: another track of the artist of a uniformly drawn earlier track, so long
  //     playlists concentrate on fewer artists;
  //   then with probability popular_anywhere_probability: a track from the global chart;
  //   otherwise (also when the chosen artist has no unused track left): a track of a genre
  //     drawn from the playlist's mixture.
  // Probabilities that would push the cascade past 1 are cut short. Apart from repeats, a
  // playlist never holds a track twice.
  double repeat_probability = 0.016;
  double same_artist_alpha = 0.33;
  double same_artist_beta = 0.85;
  double same_artist_ramp_length = 20.0;
  double playlist_artist_probability = 0.4;
  double playlist_artist_ramp_length = 60.0;
  double popular_anywhere_probability = 0.36;
};

// What GenerateSyntheticMpd wrote.
struct SyntheticSummary {
  uint64_t seed = 0;
  uint32_t playlist_count = 0;
  uint32_t track_count = 0;   // tracks in the world
  uint32_t artist_count = 0;  // artists in the world
  uint32_t genre_count = 0;
  uint64_t track_rows = 0;             // playlist-track rows, duplicates included
  uint32_t distinct_tracks_used = 0;   // tracks in at least one playlist
  uint32_t distinct_artists_used = 0;  // artists with at least one such track
  uint64_t duplicate_rows = 0;         // rows repeating a track earlier in the same playlist
  uint64_t bytes_written = 0;
  std::vector<std::filesystem::path> files;  // slice files, in pid order
};

// Returns kInvalidArgument naming the first absurd option: a zero count, more than 10,000,000
// playlists or tracks, fewer tracks than artists, fewer artists than genres, more than 10,000
// genres or 100,000 playlists per slice, an empty or inverted length range (or a maximum above
// 10,000), more than 5,000,000 possible rows per slice file (playlists_per_slice * length_max)
// or 2,000,000,000 in the world, a non-positive or non-finite scale, ramp, alpha or beta, an
// exponent outside [0, 10], probabilities outside [0, 1] or repeat + playlist-artist +
// popular-anywhere above 1, or genre-count weights that are negative or all zero.
core::Status ValidateSyntheticOptions(const SyntheticOptions& options);

// Generates the world of `options` and writes it into `out_folder` (created when missing) as
// mpd.slice.<first pid>-<last pid>.json files of options.playlists_per_slice playlists each,
// pids 0..playlist_count-1, in the reduced MPD schema of the real sample: an "info" block
// (generated_on, slice, version) and playlists with name, pid, num_tracks, num_followers,
// tracks [{artist_name, track_uri, track_name}], num_edits, duration_ms, num_artists.
// Track uris are "spotify:track:" + 22 base62 characters drawn from the seed. Every random
// choice comes from core::Rng streams forked from options.seed, so the same options give
// byte-identical files whatever `pool` is. Files are written with core::WriteFileAtomic;
// "mpd.slice.*.json" files already in `out_folder` that are not part of this world are
// deleted so a reader sees only this world. Slices are generated in parallel on `pool` when
// given (it must outlive the call). Returns kInvalidArgument for bad options (see
// ValidateSyntheticOptions) and kIoError when the folder or a file cannot be written.
core::Result<SyntheticSummary> GenerateSyntheticMpd(const SyntheticOptions& options,
                                                    const std::filesystem::path& out_folder,
                                                    core::ThreadPool* pool = nullptr);

// One line such as "5000 playlists, 489350 rows over 39572 of 40000 tracks and 7942 of 8000
// artists, 5 slice files (67.1 MB), seed 42".
std::string FormatSyntheticSummary(const SyntheticSummary& summary);

// Appends `text` to `out` as a JSON string literal: quotes, backslash and control characters
// escaped, other bytes copied (so UTF-8 stays UTF-8). Used for the slice files.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace melodai::data
