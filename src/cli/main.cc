// MelodAI — licensed under the Apache License 2.0.
// The `melodai` command: parses the command line and dispatches to subcommands.
#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"MelodAI: decentralized, privacy-preserving music recommendation"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
