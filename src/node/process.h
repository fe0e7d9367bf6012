// MelodAI — licensed under the Apache License 2.0.
// Child processes for `melodai net local` and `melodai bench ledger`: spawn a program with
// arguments and its output redirected to a log file, signal it, wait with a timeout. The
// destructor kills and reaps a child that is still running, so no process is leaked.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace melodai::node {

// Invariants: pid_ > 0 until the child has been reaped (then exit_status_ is set).
// Not thread-safe.
class ChildProcess {
 public:
  // Starts `program` with `arguments` (argv[1..]); stdout and stderr append to `log_file`.
  // kIoError when the log cannot be opened or the process cannot be started.
  static core::Result<std::unique_ptr<ChildProcess>> Spawn(
      const std::string& program, const std::vector<std::string>& arguments,
      const std::filesystem::path& log_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `signal` if the child has not been reaped yet.
  void Signal(int signal);
  // The raw wait status once the child exited, waiting up to timeout_ms (0 = just check).
  std::optional<int> Wait(int timeout_ms);
  bool running() { return !Wait(0).has_value(); }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> exit_status_;
};

// The path of the running executable (to start more `melodai` processes).
std::string SelfExecutablePath();

}  // namespace melodai::node
