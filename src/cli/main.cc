// MelodAI — licensed under the Apache License 2.0.
// The `melodai` command: global flags, subcommand registration and dispatch.
#include <CLI/CLI.hpp>

#include <malloc.h>

#include <cstdio>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/logging.h"

int main(int argc, char** argv) {
  // LibTorch training allocates and frees megabyte-sized tensors at every step. With glibc's
  // defaults those go to mmap or are trimmed back to the kernel, and every step pays page
  // faults and page clearing (a fifth of the training time). Keep freed memory in the heap.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
  mallopt(M_MMAP_MAX, 0);  // larger blocks (full-softmax logits are ~70 MB) from the heap too
  CLI::App app{"MelodAI: decentralized, privacy-preserving music recommendation"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace | debug | info | warn | error | off")->capture_default_str();
  app.parse_complete_callback([&log_level] {
    melodai::core::Status status = melodai::core::InitLogging(log_level);
    if (!status.ok()) throw CLI::ValidationError("--log-level", status.message());
  });
  int exit_code = melodai::cli::kExitOk;
  melodai::cli::RegisterDataCommand(app, exit_code);
  melodai::cli::RegisterEvalCommand(app, exit_code);
  melodai::cli::RegisterDemoCommand(app, exit_code);
  melodai::cli::RegisterSecaggCommand(app, exit_code);
  melodai::cli::RegisterNodeCommand(app, exit_code);
  melodai::cli::RegisterAppCommands(app, exit_code);
  melodai::cli::RegisterTokenomicsCommand(app, exit_code);
  melodai::cli::RegisterTrainCommand(app, exit_code);
  melodai::cli::RegisterTable1Command(app, exit_code);
  melodai::cli::RegisterFlCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  return exit_code;
}
