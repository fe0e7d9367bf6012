#!/usr/bin/env python3
# MelodAI — licensed under the Apache License 2.0.
# Reference for the MPD load benchmark: the same walk in Python's json module (parse every
# slice, intern track uris into a catalog, build playlist sequences). Prints the best of N runs.
import json
import os
import sys
import time


def walk(folder):
    names = sorted(n for n in os.listdir(folder) if n.startswith("mpd.slice.") and n.endswith(".json"))
    catalog = {}
    sequences = []
    rows = 0
    for name in names:
        with open(os.path.join(folder, name), "rb") as handle:
            document = json.load(handle)
        for playlist in document["playlists"]:
            sequence = []
            for track in playlist["tracks"]:
                uri = track["track_uri"]
                item = catalog.get(uri)
                if item is None:
                    item = len(catalog)
                    catalog[uri] = item
                sequence.append(item)
            rows += len(sequence)
            sequences.append(sequence)
    return len(names), len(sequences), rows, len(catalog)


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mpd")
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        files, playlists, rows, tracks = walk(folder)
        best = min(best, time.perf_counter() - start)
    print(f"python json walk: {files} files, {playlists} playlists, {rows} rows, {tracks} tracks; "
          f"best of {repeats}: {best:.3f} s")


if __name__ == "__main__":
    main()
