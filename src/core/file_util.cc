// MelodAI — licensed under the Apache License 2.0.
// File helpers on POSIX calls (for fsync) and std::filesystem.
#include "core/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace melodai::core {
namespace {

std::string ErrnoText() { return std::strerror(errno); }

}  // namespace

Result<std::string> ReadFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const bool missing = errno == ENOENT;
    std::string message = "cannot open " + path.string() + ": " + ErrnoText();
    return missing ? NotFoundError(std::move(message)) : IoError(std::move(message));
  }
  std::string content;
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size > 0) content.reserve(static_cast<size_t>(size));
  ::lseek(fd, 0, SEEK_SET);
  char buffer[1 << 16];
  while (true) {
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0) {
      if (errno == EINTR) continue;
      std::string message = "cannot read " + path.string() + ": " + ErrnoText();
      ::close(fd);
      return IoError(std::move(message));
    }
    if (got == 0) break;
    content.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  return content;
}

Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content) {
  std::error_code error;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), error);
  if (error) return IoError("cannot create folder " + path.parent_path().string() + ": " + error.message());
  const std::string temporary = path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create " + temporary + ": " + ErrnoText());
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t put = ::write(fd, content.data() + written, content.size() - written);
    if (put < 0) {
      if (errno == EINTR) continue;
      std::string message = "cannot write " + temporary + ": " + ErrnoText();
      ::close(fd);
      ::unlink(temporary.c_str());
      return IoError(std::move(message));
    }
    written += static_cast<size_t>(put);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string message = "cannot flush " + temporary + ": " + ErrnoText();
    ::unlink(temporary.c_str());
    return IoError(std::move(message));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    std::string message = "cannot rename " + temporary + " to " + path.string() + ": " + ErrnoText();
    ::unlink(temporary.c_str());
    return IoError(std::move(message));
  }
  return Status::Ok();
}

Result<std::vector<std::filesystem::path>> ListFiles(const std::filesystem::path& folder,
                                                     std::string_view prefix,
                                                     std::string_view suffix) {
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) {
    return NotFoundError("folder " + folder.string() + " does not exist or is not a folder");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name.size() < prefix.size() + suffix.size()) continue;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    files.push_back(entry.path());
  }
  if (error) return IoError("cannot list " + folder.string() + ": " + error.message());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace melodai::core
