// MelodAI — licensed under the Apache License 2.0.
// Synthetic world generator: builds genres, artists and tracks from one Rng stream, then each
// playlist from its own stream forked by pid (so slices can be generated in any order or in
// parallel with identical output), and serializes slices with a hand-written JSON writer.
#include "data/synthetic.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <unordered_set>

#include "core/file_util.h"
#include "core/logging.h"
#include "core/rng.h"

namespace melodai::data {
namespace {

namespace fs = std::filesystem;

// Limits on options (absurd values are rejected, not clamped).
constexpr uint32_t kMaxPlaylists = 10'000'000;
constexpr uint32_t kMaxTracks = 10'000'000;
constexpr uint32_t kMaxGenres = 10'000;
constexpr uint32_t kMaxLength = 10'000;
constexpr uint32_t kMaxPlaylistsPerSlice = 100'000;
// Rows per slice file (playlists_per_slice * length_max) and in the whole world
// (playlist_count * length_max): at about 140 bytes per row a slice stays well below the MPD
// reader's 1 GiB file limit, and a world fits one Interactions in memory.
constexpr uint64_t kMaxRowsPerSlice = 5'000'000;
constexpr uint64_t kMaxRows = 2'000'000'000;
constexpr double kMaxExponent = 10.0;

// Rng streams forked from the seed. Playlist p uses kPlaylistStreamBase + p.
constexpr uint64_t kWorldStream = 1;
constexpr uint64_t kNameStream = 2;
constexpr uint64_t kUriStream = 3;
constexpr uint64_t kPlaylistStreamBase = uint64_t{1} << 32;

// Draws of a fresh (not yet used) track before falling back to a linear probe.
constexpr int kMaxFreshDraws = 32;
constexpr int kMaxArtistDraws = 4;
constexpr size_t kUriChars = 22;

// Track duration ~ Normal(mean, sd) clamped, as in the real sample (mean 235 s per track).
constexpr double kTrackDurationMeanMs = 235000.0;
constexpr double kTrackDurationSdMs = 60000.0;
constexpr double kTrackDurationMinMs = 45000.0;
constexpr double kTrackDurationMaxMs = 900000.0;

// Followers: 12 + lognormal (the real sample keeps playlists with >= 12 followers; median 21,
// p90 183). Edits: 2 + lognormal (median 19, p90 78), capped like the real maximum.
constexpr double kFollowersLogMean = 2.197;  // ln 9
constexpr double kFollowersLogSd = 2.3;
constexpr double kFollowersMax = 10'000'000.0;
constexpr double kEditsLogMean = 2.833;  // ln 17
constexpr double kEditsLogSd = 1.1;
constexpr double kEditsMax = 200.0;

constexpr std::string_view kGenreNames[] = {
    "pop",   "rock",      "hip hop", "indie", "electronic", "country",     "r&b",    "latin",
    "jazz",  "classical", "metal",   "folk",  "punk",       "soul",        "reggae", "blues",
    "house", "techno",    "k-pop",   "funk",  "ambient",    "alternative", "gospel", "disco"};
constexpr std::string_view kSyllables[] = {
    "ka",  "lo",  "mi",  "ra",  "ve",  "no",  "sa",  "ti",  "ze",  "ma",  "lu",  "ri",  "do",
    "fe",  "gi",  "ha",  "jo",  "ke",  "ny",  "pa",  "se",  "ta",  "vi",  "wa",  "yu",  "zo",
    "bel", "cor", "dan", "el",  "fin", "gar", "hol", "ion", "jun", "kel", "lor", "mar", "nel",
    "or",  "pel", "ros", "sol", "tor", "ul",  "val", "wen", "yor", "an",  "is"};
constexpr std::string_view kNouns[] = {
    "River",  "Night",   "Fire",    "Heart",    "Summer", "Dream",  "Light",   "Love",
    "City",   "Rain",    "Ocean",   "Moon",     "Dance",  "Home",   "Echo",    "Shadow",
    "Sky",    "Road",    "Stars",   "Paradise", "Garden", "Wolves", "Mirror",  "Thunder",
    "Angels", "Machine", "Diamond", "Coast",    "Island", "Heaven", "Storm",   "Horizon",
    "Café",   "Corazón", "Lights",  "Tides",    "Wires",  "Bones",  "Letters", "Waves"};
constexpr std::string_view kAdjectives[] = {
    "Golden", "Blue",   "Electric", "Midnight", "Wild",   "Silver",  "Lost",   "Velvet",
    "Broken", "Neon",   "Young",    "Sweet",    "Cold",   "Burning", "Secret", "Crystal",
    "Lonely", "Little", "Holy",     "Dark",     "Bright", "Easy",    "Crazy",  "Endless"};
constexpr std::string_view kMoods[] = {
    "chill", "workout", "party",      "road trip", "study", "summer", "throwback", "feel good",
    "sad",   "morning", "late night", "running",   "focus", "sleep",  "dinner",    "Sunday"};
constexpr std::string_view kPlaylistSuffixes[] = {"mix",      "hits",      "classics", "jams",
                                                  "playlist", "favorites", "vibes",    "!!"};
constexpr std::string_view kTrackSuffixes[] = {" - Remix", " - Live", " (Remastered)",
                                               " - Radio Edit", " \"Acoustic\""};

template <size_t N>
std::string_view Pick(core::Rng& rng, const std::string_view (&words)[N]) {
  return words[rng.Uniform(N)];
}

// A drawer of one word from `words`, for DrawTwo.
template <size_t N>
auto PickFrom(const std::string_view (&words)[N]) {
  return [&words](core::Rng& rng) { return std::string(Pick(rng, words)); };
}

// Formats `pattern` with first(rng) then second(rng), drawn in this order: the order in which
// function arguments are evaluated is unspecified, and the stream of draws must not depend on
// the compiler.
template <typename First, typename Second>
std::string DrawTwo(core::Rng& rng, fmt::format_string<std::string, std::string> pattern,
                    First&& first, Second&& second) {
  std::string a = first(rng);
  std::string b = second(rng);
  return fmt::format(pattern, std::move(a), std::move(b));
}

// Everything about the world that playlists draw from. Invariants: the track vectors have
// track_count entries; artist_first_track has artist_count + 1 non-decreasing entries and
// every artist owns at least one track; genre_tracks[g] is non-empty for every genre.
struct World {
  std::vector<std::string> genre_names;
  std::vector<std::string> artist_names;
  std::vector<uint32_t> artist_genre;
  std::vector<uint32_t> artist_first_track;
  std::vector<uint32_t> track_artist;
  std::vector<double> track_cumulative;  // running weight within the track's artist
  std::vector<std::string> track_names;
  std::vector<std::string> track_uris;
  std::vector<uint32_t> track_duration_ms;
  std::vector<double> genre_weights;
  std::vector<std::vector<uint32_t>> genre_tracks;
  std::vector<core::AliasTable> genre_tables;  // over genre_tracks[g], by track weight
  std::unique_ptr<core::AliasTable> popular;   // over all tracks, by track weight
};

core::Status CheckProbability(std::string_view name, double value) {
  if (!(value >= 0.0 && value <= 1.0)) {
    return core::InvalidArgumentError(fmt::format("{} = {} is not in [0, 1]", name, value));
  }
  return core::Status::Ok();
}

core::Status CheckPositive(std::string_view name, double value, double max) {
  if (!(value > 0.0 && value <= max)) {
    return core::InvalidArgumentError(fmt::format("{} = {} is not in (0, {}]", name, value, max));
  }
  return core::Status::Ok();
}

core::Status CheckExponent(std::string_view name, double value) {
  if (!(value >= 0.0 && value <= kMaxExponent)) {
    return core::InvalidArgumentError(
        fmt::format("{} = {} is not in [0, {}]", name, value, kMaxExponent));
  }
  return core::Status::Ok();
}

core::Status ValidateModel(const SyntheticOptions& options) {
  MELODAI_RETURN_IF_ERROR(
      CheckExponent("artist_popularity_exponent", options.artist_popularity_exponent));
  MELODAI_RETURN_IF_ERROR(CheckExponent("hit_artist_bias", options.hit_artist_bias));
  MELODAI_RETURN_IF_ERROR(
      CheckExponent("track_popularity_exponent", options.track_popularity_exponent));
  MELODAI_RETURN_IF_ERROR(
      CheckExponent("genre_popularity_exponent", options.genre_popularity_exponent));
  MELODAI_RETURN_IF_ERROR(CheckPositive("length_scale", options.length_scale, 1e9));
  MELODAI_RETURN_IF_ERROR(
      CheckPositive("playlist_artist_ramp_length", options.playlist_artist_ramp_length, 1e9));
  MELODAI_RETURN_IF_ERROR(CheckPositive("genre_mixture_alpha", options.genre_mixture_alpha, 1e6));
  double weight_total = 0.0;
  for (double weight : options.genres_per_playlist_weights) {
    if (!(weight >= 0.0 && weight <= 1e9)) {
      return core::InvalidArgumentError(fmt::format("genres_per_playlist_weights has {}", weight));
    }
    weight_total += weight;
  }
  if (weight_total <= 0.0)
    return core::InvalidArgumentError("genres_per_playlist_weights are all zero");
  MELODAI_RETURN_IF_ERROR(CheckProbability("repeat_probability", options.repeat_probability));
  MELODAI_RETURN_IF_ERROR(CheckPositive("same_artist_alpha", options.same_artist_alpha, 1e6));
  MELODAI_RETURN_IF_ERROR(CheckPositive("same_artist_beta", options.same_artist_beta, 1e6));
  MELODAI_RETURN_IF_ERROR(
      CheckPositive("same_artist_ramp_length", options.same_artist_ramp_length, 1e9));
  MELODAI_RETURN_IF_ERROR(
      CheckProbability("playlist_artist_probability", options.playlist_artist_probability));
  MELODAI_RETURN_IF_ERROR(
      CheckProbability("popular_anywhere_probability", options.popular_anywhere_probability));
  const double coherence = options.repeat_probability + options.playlist_artist_probability +
                           options.popular_anywhere_probability;
  if (coherence > 1.0) {
    return core::InvalidArgumentError(
        fmt::format("repeat, playlist-artist and popular-anywhere probabilities sum to {}, above 1",
                    coherence));
  }
  return core::Status::Ok();
}

}  // namespace

core::Status ValidateSyntheticOptions(const SyntheticOptions& options) {
  auto invalid = [](std::string message) { return core::InvalidArgumentError(std::move(message)); };
  if (options.playlist_count == 0 || options.playlist_count > kMaxPlaylists) {
    return invalid(fmt::format("playlist_count = {} is not in [1, {}]", options.playlist_count,
                               kMaxPlaylists));
  }
  if (options.track_count == 0 || options.track_count > kMaxTracks) {
    return invalid(
        fmt::format("track_count = {} is not in [1, {}]", options.track_count, kMaxTracks));
  }
  if (options.artist_count == 0 || options.artist_count > options.track_count) {
    return invalid(fmt::format("artist_count = {} is not in [1, track_count = {}]",
                               options.artist_count, options.track_count));
  }
  if (options.genre_count == 0 || options.genre_count > kMaxGenres ||
      options.genre_count > options.artist_count) {
    return invalid(fmt::format("genre_count = {} is not in [1, min({}, artist_count = {})]",
                               options.genre_count, kMaxGenres, options.artist_count));
  }
  if (options.playlists_per_slice == 0 || options.playlists_per_slice > kMaxPlaylistsPerSlice) {
    return invalid(fmt::format("playlists_per_slice = {} is not in [1, {}]",
                               options.playlists_per_slice, kMaxPlaylistsPerSlice));
  }
  if (options.length_min == 0 || options.length_min > options.length_max ||
      options.length_max > kMaxLength) {
    return invalid(fmt::format("length range [{}, {}] is not within [1, {}]", options.length_min,
                               options.length_max, kMaxLength));
  }
  const uint64_t slice_rows = uint64_t{options.playlists_per_slice} * options.length_max;
  if (slice_rows > kMaxRowsPerSlice) {
    return invalid(fmt::format("playlists_per_slice * length_max = {} rows exceeds {} per slice",
                               slice_rows, kMaxRowsPerSlice));
  }
  const uint64_t rows = uint64_t{options.playlist_count} * options.length_max;
  if (rows > kMaxRows) {
    return invalid(fmt::format("playlist_count * length_max = {} rows exceeds {}", rows, kMaxRows));
  }
  return ValidateModel(options);
}

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

namespace {

std::string Capitalized(std::string_view word) {
  std::string out(word);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z')
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string MadeUpWord(core::Rng& rng) {
  const size_t syllables = 2 + rng.Uniform(2);
  std::string word;
  for (size_t i = 0; i < syllables; ++i) word += Pick(rng, kSyllables);
  return Capitalized(word);
}

std::string ArtistName(core::Rng& rng) {
  static constexpr std::string_view kPrefixes[] = {"DJ", "Lil", "MC", "Young", "Saint"};
  switch (rng.Uniform(10)) {
    case 0:
    case 1:
    case 2:
    case 3:
      return DrawTwo(rng, "{} {}", MadeUpWord, MadeUpWord);
    case 4:
    case 5:
      return DrawTwo(rng, "The {} {}", PickFrom(kAdjectives), PickFrom(kNouns));
    case 6:
      return MadeUpWord(rng);
    case 7:
      return DrawTwo(rng, "{} {}", PickFrom(kPrefixes), MadeUpWord);
    case 8:
      return DrawTwo(rng, "{} & the {}", MadeUpWord, PickFrom(kNouns));
    default:
      return DrawTwo(rng, "{}\u00e9 {}", MadeUpWord, MadeUpWord);  // "é": UTF-8 text
  }
}

std::string TrackName(core::Rng& rng, const std::vector<std::string>& artist_names) {
  // Patterns by weight: adjective + noun 4, noun 2, "noun of noun" 2, made-up word + noun 3,
  // an apostrophe phrase 1.
  const uint64_t pattern = rng.Uniform(12);
  std::string name;
  if (pattern < 4) {
    name = DrawTwo(rng, "{} {}", PickFrom(kAdjectives), PickFrom(kNouns));
  } else if (pattern < 6) {
    name = std::string(Pick(rng, kNouns));
  } else if (pattern < 8) {
    name = DrawTwo(rng, "{} of {}", PickFrom(kNouns), PickFrom(kNouns));
  } else if (pattern < 11) {
    name = DrawTwo(rng, "{} {}", MadeUpWord, PickFrom(kNouns));
  } else {
    name = fmt::format("Don't Let the {} Go", Pick(rng, kNouns));
  }
  if (rng.Bernoulli(0.12)) {
    // One more choice than there are suffixes: the last one is a featured artist.
    const size_t suffix = rng.Uniform(std::size(kTrackSuffixes) + 1);
    if (suffix == std::size(kTrackSuffixes)) {
      name += fmt::format(" (feat. {})", artist_names[rng.Uniform(artist_names.size())]);
    } else {
      name += kTrackSuffixes[suffix];
    }
  }
  return name;
}

std::string TrackUri(core::Rng& rng) {
  static constexpr std::string_view kBase62 =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string uri = "spotify:track:";
  for (size_t i = 0; i < kUriChars; ++i) uri += kBase62[rng.Uniform(kBase62.size())];
  return uri;
}

std::vector<double> PowerLawWeights(size_t count, double exponent) {
  std::vector<double> weights(count);
  for (size_t i = 0; i < count; ++i) weights[i] = std::pow(static_cast<double>(i + 1), -exponent);
  return weights;
}

void BuildGenres(const SyntheticOptions& options, World& world) {
  const size_t named = std::size(kGenreNames);
  for (uint32_t g = 0; g < options.genre_count; ++g) {
    if (g < named) {
      world.genre_names.emplace_back(kGenreNames[g]);
    } else {
      world.genre_names.push_back(fmt::format("{} {}", kGenreNames[g % named], g / named + 1));
    }
  }
  world.genre_weights = PowerLawWeights(options.genre_count, options.genre_popularity_exponent);
}

// Gives every artist a genre, a unique name and a popularity weight (returned).
std::vector<double> BuildArtists(const SyntheticOptions& options, core::Rng& rng,
                                 core::Rng& name_rng, World& world) {
  const uint32_t artists = options.artist_count;
  const core::AliasTable genre_picker(world.genre_weights);
  world.artist_genre.resize(artists);
  for (uint32_t a = 0; a < artists; ++a) {
    // The first genre_count artists cover every genre once, so no genre is empty.
    world.artist_genre[a] =
        a < options.genre_count ? a : static_cast<uint32_t>(genre_picker.Sample(rng));
  }
  std::vector<uint32_t> rank(artists);
  std::iota(rank.begin(), rank.end(), 0u);
  rng.Shuffle(rank);
  const std::vector<double> by_rank = PowerLawWeights(artists, options.artist_popularity_exponent);
  std::vector<double> weights(artists);
  for (uint32_t a = 0; a < artists; ++a) weights[a] = by_rank[rank[a]];

  std::unordered_set<std::string> taken;
  world.artist_names.reserve(artists);
  for (uint32_t a = 0; a < artists; ++a) {
    std::string name = ArtistName(name_rng);
    for (int attempt = 0; attempt < 8 && taken.count(name) > 0; ++attempt)
      name = ArtistName(name_rng);
    // Generated names never end in a digit, so this fallback cannot collide.
    if (taken.count(name) > 0) name += fmt::format(" {}", a + 1);
    taken.insert(name);
    world.artist_names.push_back(std::move(name));
  }
  return weights;
}

// Splits the tracks among artists: one each, the rest in proportion to the artist weights.
// Fills artist_first_track and track_artist (tracks of an artist are contiguous).
void AssignTracks(const SyntheticOptions& options, const std::vector<double>& artist_weights,
                  core::Rng& rng, World& world) {
  const uint32_t artists = options.artist_count;
  std::vector<uint32_t> track_counts(artists, 1);
  const core::AliasTable picker(artist_weights);
  for (uint32_t extra = artists; extra < options.track_count; ++extra) {
    ++track_counts[picker.Sample(rng)];
  }
  world.artist_first_track.assign(1, 0);
  world.track_artist.reserve(options.track_count);
  for (uint32_t a = 0; a < artists; ++a) {
    world.track_artist.insert(world.track_artist.end(), track_counts[a], a);
    world.artist_first_track.push_back(static_cast<uint32_t>(world.track_artist.size()));
  }
  MELODAI_CHECK_EQ(world.track_artist.size(), options.track_count);
}

// Returns the popularity weight of every track: (rank + 1)^-track_popularity_exponent, where
// the ranks are a weighted random order (Efraimidis-Spirakis keys log(u) / w) with w = artist
// weight^hit_artist_bias, so popular artists tend to own the hits. Also fills
// track_cumulative, the running weight within each artist.
std::vector<double> RankTracks(const SyntheticOptions& options,
                               const std::vector<double>& artist_weights, core::Rng& rng,
                               World& world) {
  const size_t tracks = world.track_artist.size();
  std::vector<double> keys(tracks);
  for (size_t t = 0; t < tracks; ++t) {
    const double bias = std::pow(artist_weights[world.track_artist[t]], options.hit_artist_bias);
    keys[t] = std::log(1.0 - rng.UniformDouble()) / bias;  // 1 - u is in (0, 1]
  }
  std::vector<uint32_t> order(tracks);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&keys](uint32_t a, uint32_t b) { return keys[a] > keys[b]; });
  std::vector<double> weights(tracks);
  const std::vector<double> by_rank = PowerLawWeights(tracks, options.track_popularity_exponent);
  for (size_t rank = 0; rank < tracks; ++rank) weights[order[rank]] = by_rank[rank];
  world.track_cumulative.resize(tracks);
  for (size_t a = 0; a + 1 < world.artist_first_track.size(); ++a) {
    double running = 0.0;
    for (uint32_t t = world.artist_first_track[a]; t < world.artist_first_track[a + 1]; ++t) {
      running += weights[t];
      world.track_cumulative[t] = running;
    }
  }
  return weights;
}

// Gives every track a name, a unique uri and a duration.
void DescribeTracks(core::Rng& rng, core::Rng& name_rng, core::Rng& uri_rng, World& world) {
  const size_t tracks = world.track_artist.size();
  world.track_names.reserve(tracks);
  world.track_uris.reserve(tracks);
  world.track_duration_ms.reserve(tracks);
  std::unordered_set<std::string> uris;
  for (size_t t = 0; t < tracks; ++t) {
    world.track_names.push_back(TrackName(name_rng, world.artist_names));
    std::string uri = TrackUri(uri_rng);
    while (!uris.insert(uri).second) uri = TrackUri(uri_rng);
    world.track_uris.push_back(std::move(uri));
    const double duration = std::clamp(rng.Normal(kTrackDurationMeanMs, kTrackDurationSdMs),
                                       kTrackDurationMinMs, kTrackDurationMaxMs);
    world.track_duration_ms.push_back(static_cast<uint32_t>(duration));
  }
}

void BuildTables(const std::vector<double>& track_weights, World& world) {
  const size_t genres = world.genre_names.size();
  world.genre_tracks.assign(genres, {});
  std::vector<std::vector<double>> genre_weights(genres);
  for (uint32_t t = 0; t < track_weights.size(); ++t) {
    const uint32_t genre = world.artist_genre[world.track_artist[t]];
    world.genre_tracks[genre].push_back(t);
    genre_weights[genre].push_back(track_weights[t]);
  }
  world.genre_tables.reserve(genres);
  for (size_t g = 0; g < genres; ++g) {
    MELODAI_CHECK(!world.genre_tracks[g].empty());
    world.genre_tables.emplace_back(genre_weights[g]);
  }
  world.popular = std::make_unique<core::AliasTable>(track_weights);
}

World BuildWorld(const SyntheticOptions& options) {
  const core::Rng root(options.seed);
  core::Rng rng = root.Fork(kWorldStream);
  core::Rng name_rng = root.Fork(kNameStream);
  core::Rng uri_rng = root.Fork(kUriStream);
  World world;
  BuildGenres(options, world);
  const std::vector<double> artist_weights = BuildArtists(options, rng, name_rng, world);
  AssignTracks(options, artist_weights, rng, world);
  const std::vector<double> track_weights = RankTracks(options, artist_weights, rng, world);
  DescribeTracks(rng, name_rng, uri_rng, world);
  BuildTables(track_weights, world);
  return world;
}

// One generated playlist, before serialization.
struct PlaylistDraft {
  std::string name;
  std::vector<uint32_t> tracks;
  uint32_t followers = 0;
  uint32_t edits = 0;
  uint32_t distinct_artists = 0;
  uint32_t duplicates = 0;
  uint64_t duration_ms = 0;
};

// Per-thread scratch: "stamp == pid + 1" marks a track or artist as used by playlist pid, so
// nothing needs clearing between playlists.
struct Scratch {
  explicit Scratch(const World& world)
      : track_stamp(world.track_artist.size(), 0), artist_stamp(world.artist_names.size(), 0) {}
  std::vector<uint32_t> track_stamp;
  std::vector<uint32_t> artist_stamp;
  std::vector<uint32_t> playlist_artists;  // distinct artists in order of first use
};

// Builds playlist `pid` from its own Rng stream. Not thread-safe; one per thread at a time.
class PlaylistBuilder {
 public:
  PlaylistBuilder(const World& world, const SyntheticOptions& options, Scratch& scratch,
                  uint32_t pid)
      : world_(world),
        options_(options),
        scratch_(scratch),
        stamp_(pid + 1),
        rng_(core::Rng(options.seed).Fork(kPlaylistStreamBase + pid)) {}

  PlaylistDraft Build();

 private:
  uint32_t DrawLength();
  void DrawGenres();
  bool IsFresh(uint32_t track) const { return scratch_.track_stamp[track] != stamp_; }
  void Add(uint32_t track);
  uint32_t Next();
  std::optional<uint32_t> FreshFromArtist(uint32_t artist);
  uint32_t FreshFromGenres();
  uint32_t FreshPopular();
  uint32_t FreshByProbe();
  std::string DrawName();

  const World& world_;
  const SyntheticOptions& options_;
  Scratch& scratch_;
  const uint32_t stamp_;
  core::Rng rng_;
  std::vector<uint32_t> genres_;
  std::vector<double> mixture_;
  double same_artist_ = 0.0;  // this playlist's probability of staying with the artist
  PlaylistDraft draft_;
};

uint32_t PlaylistBuilder::DrawLength() {
  // Inverse CDF of an exponential of scale s truncated to [0, span): x = -s ln(1 - u(1 -
  // e^-span/s)).
  const double span = static_cast<double>(options_.length_max - options_.length_min + 1);
  const double scale = options_.length_scale;
  const double u = rng_.UniformDouble();
  const double x = -scale * std::log1p(-u * -std::expm1(-span / scale));
  uint64_t length = options_.length_min + static_cast<uint64_t>(std::max(0.0, x));
  length = std::min<uint64_t>({length, options_.length_max, world_.track_artist.size()});
  return static_cast<uint32_t>(length);
}

void PlaylistBuilder::DrawGenres() {
  const size_t wanted = std::min<size_t>(rng_.Categorical(options_.genres_per_playlist_weights) + 1,
                                         world_.genre_names.size());
  // Without replacement: redraw a few times, then zero the chosen weights (exact but O(genres)).
  for (int draw = 0; genres_.size() < wanted && draw < kMaxFreshDraws; ++draw) {
    const uint32_t genre = static_cast<uint32_t>(rng_.Categorical(world_.genre_weights));
    if (std::find(genres_.begin(), genres_.end(), genre) == genres_.end()) genres_.push_back(genre);
  }
  std::vector<double> weights;
  if (genres_.size() < wanted) weights = world_.genre_weights;
  for (const uint32_t genre : genres_) {
    if (!weights.empty()) weights[genre] = 0.0;
  }
  while (genres_.size() < wanted) {
    const uint32_t genre = static_cast<uint32_t>(rng_.Categorical(weights));
    weights[genre] = 0.0;
    genres_.push_back(genre);
  }
  mixture_ = rng_.Dirichlet(options_.genre_mixture_alpha, genres_.size());
}

void PlaylistBuilder::Add(uint32_t track) {
  if (!IsFresh(track)) ++draft_.duplicates;
  scratch_.track_stamp[track] = stamp_;
  const uint32_t artist = world_.track_artist[track];
  if (scratch_.artist_stamp[artist] != stamp_) {
    scratch_.artist_stamp[artist] = stamp_;
    scratch_.playlist_artists.push_back(artist);
  }
  draft_.tracks.push_back(track);
  draft_.duration_ms += world_.track_duration_ms[track];
}

std::optional<uint32_t> PlaylistBuilder::FreshFromArtist(uint32_t artist) {
  const uint32_t first = world_.artist_first_track[artist];
  const uint32_t end = world_.artist_first_track[artist + 1];
  const auto begin = world_.track_cumulative.begin();
  for (int draw = 0; draw < kMaxArtistDraws; ++draw) {
    const double target = rng_.UniformDouble() * world_.track_cumulative[end - 1];
    const auto found = std::upper_bound(begin + first, begin + end - 1, target);
    const uint32_t track = static_cast<uint32_t>(found - begin);
    if (IsFresh(track)) return track;
  }
  // Mostly used up: scan the artist's tracks from a random offset.
  const uint32_t count = end - first;
  const uint32_t offset = static_cast<uint32_t>(rng_.Uniform(count));
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t track = first + (offset + i) % count;
    if (IsFresh(track)) return track;
  }
  return std::nullopt;
}

uint32_t PlaylistBuilder::FreshFromGenres() {
  for (int draw = 0; draw < kMaxFreshDraws; ++draw) {
    const size_t genre = genres_[rng_.Categorical(mixture_)];
    const uint32_t track = world_.genre_tracks[genre][world_.genre_tables[genre].Sample(rng_)];
    if (IsFresh(track)) return track;
  }
  return FreshByProbe();
}

uint32_t PlaylistBuilder::FreshPopular() {
  for (int draw = 0; draw < kMaxFreshDraws; ++draw) {
    const uint32_t track = static_cast<uint32_t>(world_.popular->Sample(rng_));
    if (IsFresh(track)) return track;
  }
  return FreshByProbe();
}

uint32_t PlaylistBuilder::FreshByProbe() {
  // The playlist is shorter than the catalog (DrawLength caps it), so a fresh track exists.
  const size_t tracks = world_.track_artist.size();
  const size_t start = rng_.Uniform(tracks);
  for (size_t i = 0; i < tracks; ++i) {
    const uint32_t track = static_cast<uint32_t>((start + i) % tracks);
    if (IsFresh(track)) return track;
  }
  MELODAI_CHECK_MSG(false, "no fresh track although the playlist is shorter than the catalog");
  return 0;
}

uint32_t PlaylistBuilder::Next() {
  double r = rng_.UniformDouble();
  if (r < options_.repeat_probability) return draft_.tracks[rng_.Uniform(draft_.tracks.size())];
  r -= options_.repeat_probability;
  // Returning to an artist of the playlist grows likelier as the playlist grows.
  const double so_far = static_cast<double>(draft_.tracks.size());
  const double playlist_artist = options_.playlist_artist_probability * so_far /
                                 (so_far + options_.playlist_artist_ramp_length);
  std::optional<uint32_t> track;
  if (r < same_artist_) {
    track = FreshFromArtist(world_.track_artist[draft_.tracks.back()]);
  } else if ((r -= same_artist_) < playlist_artist) {
    // The artist of a uniformly drawn earlier track: frequent artists come back more often.
    const uint32_t earlier = draft_.tracks[rng_.Uniform(draft_.tracks.size())];
    track = FreshFromArtist(world_.track_artist[earlier]);
  } else if (r - playlist_artist < options_.popular_anywhere_probability) {
    track = FreshPopular();
  }
  return track ? *track : FreshFromGenres();
}

std::string PlaylistBuilder::DrawName() {
  const std::string_view genre = world_.genre_names[genres_.front()];
  switch (rng_.Uniform(10)) {
    case 0:
    case 1: {  // the playlist's most frequent artist (the smallest id on ties)
      std::vector<uint32_t> artists;
      artists.reserve(draft_.tracks.size());
      for (const uint32_t track : draft_.tracks) artists.push_back(world_.track_artist[track]);
      std::sort(artists.begin(), artists.end());
      uint32_t best = artists.front();
      size_t best_count = 0;
      for (size_t begin = 0, end = 0; begin < artists.size(); begin = end) {
        while (end < artists.size() && artists[end] == artists[begin]) ++end;
        if (end - begin > best_count) {
          best = artists[begin];
          best_count = end - begin;
        }
      }
      return world_.artist_names[best];
    }
    case 2:
    case 3:
    case 4:
      return fmt::format("{} {}", Pick(rng_, kMoods), genre);
    case 5:
    case 6:
      return fmt::format("{} {}", genre, Pick(rng_, kPlaylistSuffixes));
    case 7:
      return std::string(genre);
    case 8:
      return DrawTwo(rng_, "{} {}", PickFrom(kMoods), PickFrom(kPlaylistSuffixes));
    default:
      return DrawTwo(rng_, "{} {}", PickFrom(kAdjectives), PickFrom(kNouns));
  }
}

PlaylistDraft PlaylistBuilder::Build() {
  scratch_.playlist_artists.clear();
  const uint32_t length = DrawLength();
  DrawGenres();
  // Beta(alpha, beta) drawn as Gamma(alpha) / (Gamma(alpha) + Gamma(beta)).
  const double focus = rng_.Gamma(options_.same_artist_alpha);
  const double spread = rng_.Gamma(options_.same_artist_beta);
  // Short playlists are less artist-focused than long ones, as in the real sample.
  const double ramp = static_cast<double>(length) /
                      (static_cast<double>(length) + options_.same_artist_ramp_length);
  same_artist_ = focus + spread > 0.0 ? ramp * focus / (focus + spread) : 0.0;
  draft_.tracks.reserve(length);
  Add(FreshFromGenres());
  while (draft_.tracks.size() < length) Add(Next());
  draft_.distinct_artists = static_cast<uint32_t>(scratch_.playlist_artists.size());
  draft_.name = DrawName();
  const double followers =
      12.0 + std::floor(std::exp(rng_.Normal(kFollowersLogMean, kFollowersLogSd)));
  draft_.followers = static_cast<uint32_t>(std::min(followers, kFollowersMax));
  const double edits = 2.0 + std::floor(std::exp(rng_.Normal(kEditsLogMean, kEditsLogSd)));
  draft_.edits = static_cast<uint32_t>(std::min(edits, kEditsMax));
  MELODAI_CHECK_EQ(draft_.tracks.size(), length);
  return std::move(draft_);
}

// The JSON object of every track, built once: {"artist_name": ..., "track_uri": ..., ...}.
std::vector<std::string> TrackObjects(const World& world) {
  std::vector<std::string> objects(world.track_artist.size());
  for (size_t t = 0; t < objects.size(); ++t) {
    std::string& out = objects[t];
    out = "{\"artist_name\": ";
    AppendJsonString(out, world.artist_names[world.track_artist[t]]);
    out += ", \"track_uri\": ";
    AppendJsonString(out, world.track_uris[t]);
    out += ", \"track_name\": ";
    AppendJsonString(out, world.track_names[t]);
    out += '}';
  }
  return objects;
}

void AppendPlaylist(std::string& out, uint32_t pid, const PlaylistDraft& draft,
                    const std::vector<std::string>& track_objects) {
  out += "        {\n            \"name\": ";
  AppendJsonString(out, draft.name);
  out += fmt::format(
      ",\n            \"pid\": {},\n            \"num_tracks\": {},\n"
      "            \"num_followers\": {},\n            \"tracks\": [",
      pid, draft.tracks.size(), draft.followers);
  for (size_t i = 0; i < draft.tracks.size(); ++i) {
    out += i == 0 ? "\n                " : ",\n                ";
    out += track_objects[draft.tracks[i]];
  }
  out += fmt::format(
      "\n            ],\n            \"num_edits\": {},\n            \"duration_ms\": {},\n"
      "            \"num_artists\": {}\n        }}",
      draft.edits, draft.duration_ms, draft.distinct_artists);
}

std::string SliceName(uint32_t first_pid, uint32_t last_pid) {
  return fmt::format("mpd.slice.{}-{}.json", first_pid, last_pid);
}

// The result of one slice file.
struct SliceOutcome {
  core::Status status;
  uint64_t rows = 0;
  uint64_t duplicates = 0;
  uint64_t bytes = 0;
};

// Everything the slice tasks share. Tasks write only their own outcome and, under the mutex,
// OR their used tracks into track_used (an order-independent merge).
struct GenerationContext {
  const SyntheticOptions& options;
  const World& world;
  const std::vector<std::string>& track_objects;
  const fs::path& out_folder;
  std::vector<SliceOutcome>& outcomes;
  std::vector<uint8_t>& track_used;
  std::mutex& used_mutex;
};

void GenerateSlice(const GenerationContext& context, uint32_t slice, Scratch& scratch) {
  const SyntheticOptions& options = context.options;
  const uint32_t first = slice * options.playlists_per_slice;
  const uint32_t last = std::min(first + options.playlists_per_slice, options.playlist_count) - 1;
  SliceOutcome& outcome = context.outcomes[slice];
  std::string out = fmt::format(
      "{{\n    \"info\": {{\n        \"generated_on\": \"synthetic world, seed {}\",\n"
      "        \"slice\": \"{}-{}\",\n        \"version\": \"v1\"\n    }},\n"
      "    \"playlists\": [\n",
      options.seed, first, last);
  std::vector<uint32_t> used;
  for (uint32_t pid = first; pid <= last; ++pid) {
    const PlaylistDraft draft = PlaylistBuilder(context.world, options, scratch, pid).Build();
    AppendPlaylist(out, pid, draft, context.track_objects);
    out += pid == last ? "\n" : ",\n";
    outcome.rows += draft.tracks.size();
    outcome.duplicates += draft.duplicates;
    used.insert(used.end(), draft.tracks.begin(), draft.tracks.end());
  }
  out += "    ]\n}\n";
  outcome.bytes = out.size();
  outcome.status = core::WriteFileAtomic(context.out_folder / SliceName(first, last), out);
  std::lock_guard lock(context.used_mutex);
  for (const uint32_t track : used) context.track_used[track] = 1;
}

// True for "mpd.slice.<digits>-<digits>.json".
bool IsSliceFileName(std::string_view name) {
  constexpr std::string_view kPrefix = "mpd.slice.";
  constexpr std::string_view kSuffix = ".json";
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return false;
  const std::string_view range =
      name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  const size_t dash = range.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == range.size()) return false;
  auto digits = [](std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return digits(range.substr(0, dash)) && digits(range.substr(dash + 1));
}

// Deletes slice files of `folder` that this world did not write.
core::Status RemoveStaleSlices(const fs::path& folder, const std::vector<fs::path>& written) {
  MELODAI_ASSIGN_OR_RETURN(const std::vector<fs::path> present,
                           core::ListFiles(folder, "mpd.slice.", ".json"));
  for (const fs::path& path : present) {
    if (!IsSliceFileName(path.filename().string())) continue;
    if (std::find(written.begin(), written.end(), path) != written.end()) continue;
    std::error_code error;
    fs::remove(path, error);
    if (error)
      return core::IoError("cannot remove stale " + path.string() + ": " + error.message());
    MELODAI_LOG_INFO("removed {}, a slice of an earlier world", path.string());
  }
  return core::Status::Ok();
}

// Generates every slice, on `pool` when it has more than one thread.
void GenerateSlices(const GenerationContext& context, uint32_t slices, core::ThreadPool* pool) {
  if (pool == nullptr || pool->thread_count() <= 1) {
    Scratch scratch(context.world);
    for (uint32_t slice = 0; slice < slices; ++slice) GenerateSlice(context, slice, scratch);
    return;
  }
  // worker indices are unique among chunks running at once, so each scratch has one user.
  std::vector<std::unique_ptr<Scratch>> scratches(pool->thread_count());
  pool->ParallelFor(slices, 1, [&](size_t begin, size_t end, size_t worker) {
    if (!scratches[worker]) scratches[worker] = std::make_unique<Scratch>(context.world);
    for (size_t slice = begin; slice < end; ++slice) {
      GenerateSlice(context, static_cast<uint32_t>(slice), *scratches[worker]);
    }
  });
}

}  // namespace

core::Result<SyntheticSummary> GenerateSyntheticMpd(const SyntheticOptions& options,
                                                    const fs::path& out_folder,
                                                    core::ThreadPool* pool) {
  MELODAI_RETURN_IF_ERROR(ValidateSyntheticOptions(options));
  MELODAI_LOG_INFO("synthetic world: seed {}, {} playlists, {} tracks, {} artists, {} genres",
                   options.seed, options.playlist_count, options.track_count, options.artist_count,
                   options.genre_count);
  std::error_code error;
  fs::create_directories(out_folder, error);
  if (error) return core::IoError("cannot create " + out_folder.string() + ": " + error.message());

  const World world = BuildWorld(options);
  const std::vector<std::string> track_objects = TrackObjects(world);
  const uint32_t per_slice = options.playlists_per_slice;
  const uint32_t slices = (options.playlist_count + per_slice - 1) / per_slice;
  std::vector<SliceOutcome> outcomes(slices);
  std::vector<uint8_t> track_used(options.track_count, 0);
  std::mutex used_mutex;
  const GenerationContext context{options,  world,      track_objects, out_folder,
                                  outcomes, track_used, used_mutex};
  GenerateSlices(context, slices, pool);

  SyntheticSummary summary;
  summary.seed = options.seed;
  summary.playlist_count = options.playlist_count;
  summary.track_count = options.track_count;
  summary.artist_count = options.artist_count;
  summary.genre_count = options.genre_count;
  for (uint32_t slice = 0; slice < slices; ++slice) {
    MELODAI_RETURN_IF_ERROR(outcomes[slice].status);
    summary.track_rows += outcomes[slice].rows;
    summary.duplicate_rows += outcomes[slice].duplicates;
    summary.bytes_written += outcomes[slice].bytes;
    const uint32_t first = slice * per_slice;
    const uint32_t last = std::min(first + per_slice, options.playlist_count) - 1;
    summary.files.push_back(out_folder / SliceName(first, last));
  }
  std::vector<uint8_t> artist_used(options.artist_count, 0);
  for (uint32_t track = 0; track < options.track_count; ++track) {
    if (track_used[track] == 0) continue;
    ++summary.distinct_tracks_used;
    artist_used[world.track_artist[track]] = 1;
  }
  summary.distinct_artists_used =
      static_cast<uint32_t>(std::count(artist_used.begin(), artist_used.end(), 1));
  MELODAI_RETURN_IF_ERROR(RemoveStaleSlices(out_folder, summary.files));
  MELODAI_LOG_INFO("synthetic world written: {}", FormatSyntheticSummary(summary));
  return summary;
}

std::string FormatSyntheticSummary(const SyntheticSummary& summary) {
  return fmt::format(
      "{} playlists, {} rows over {} of {} tracks and {} of {} artists, {} slice files "
      "({:.1f} MB), seed {}",
      summary.playlist_count, summary.track_rows, summary.distinct_tracks_used, summary.track_count,
      summary.distinct_artists_used, summary.artist_count, summary.files.size(),
      static_cast<double>(summary.bytes_written) / 1e6, summary.seed);
}

}  // namespace melodai::data
