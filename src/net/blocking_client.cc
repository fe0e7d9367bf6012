// MelodAI — licensed under the Apache License 2.0.
// BlockingClient over POSIX sockets with poll() for timeouts.
#include "net/blocking_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace melodai::net {
namespace {

core::Status WaitReady(int fd, short events, int timeout_ms, std::string_view what) {
  pollfd entry{fd, events, 0};
  while (true) {
    const int ready = ::poll(&entry, 1, timeout_ms);
    if (ready > 0) return core::Status::Ok();
    if (ready == 0) return core::DeadlineExceededError(fmt::format("{} timed out", what));
    if (errno != EINTR) return core::UnavailableError(fmt::format("{}: {}", what, std::strerror(errno)));
  }
}

}  // namespace

core::Result<std::unique_ptr<BlockingClient>> BlockingClient::Connect(std::string_view host,
                                                                      uint16_t port,
                                                                      int timeout_ms,
                                                                      size_t max_frame_bytes) {
  const std::string numeric = host == "localhost" ? "127.0.0.1" : std::string(host);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, numeric.c_str(), &address.sin_addr) != 1) {
    return core::InvalidArgumentError(fmt::format("client: bad IPv4 address '{}'", host));
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return core::IoError(fmt::format("client: socket: {}", std::strerror(errno)));
  const std::string where = fmt::format("connect to {}:{}", host, port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno != EINPROGRESS) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      return core::UnavailableError(fmt::format("{}: {}", where, reason));
    }
    core::Status ready = WaitReady(fd, POLLOUT, timeout_ms, where);
    int socket_error = 0;
    socklen_t length = sizeof(socket_error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &length);
    if (!ready.ok() || socket_error != 0) {
      ::close(fd);
      return core::UnavailableError(fmt::format(
          "{}: {}", where, ready.ok() ? std::strerror(socket_error) : ready.message()));
    }
  }
  const int blocking_flags = ::fcntl(fd, F_GETFL) & ~O_NONBLOCK;
  ::fcntl(fd, F_SETFL, blocking_flags);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<BlockingClient>(new BlockingClient(fd, max_frame_bytes));
}

BlockingClient::~BlockingClient() { ::close(fd_); }

core::Status BlockingClient::WriteAll(std::string_view bytes) {
  size_t offset = 0;
  while (offset < bytes.size()) {
    const ssize_t written =
        ::send(fd_, bytes.data() + offset, bytes.size() - offset, MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      return core::UnavailableError(fmt::format("client: send: {}", std::strerror(errno)));
    }
    offset += static_cast<size_t>(written);
  }
  return core::Status::Ok();
}

core::Status BlockingClient::Send(std::string_view payload) {
  return WriteAll(EncodeFrame(payload));
}

core::Status BlockingClient::SendMany(const std::vector<std::string>& payloads) {
  std::string bytes;
  for (const std::string& payload : payloads) bytes += EncodeFrame(payload);
  return WriteAll(bytes);
}

core::Result<std::optional<std::string>> BlockingClient::Receive(int timeout_ms) {
  while (true) {
    MELODAI_ASSIGN_OR_RETURN(std::optional<std::string> frame, decoder_.Next());
    if (frame.has_value()) return frame;
    core::Status ready = WaitReady(fd_, POLLIN, timeout_ms, "client: receive");
    if (ready.code() == core::StatusCode::kDeadlineExceeded) return std::optional<std::string>();
    MELODAI_RETURN_IF_ERROR(ready);
    char buffer[64 * 1024];
    const ssize_t received = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (received == 0) return core::UnavailableError("client: the node closed the connection");
    if (received < 0) {
      if (errno == EINTR) continue;
      return core::UnavailableError(fmt::format("client: recv: {}", std::strerror(errno)));
    }
    decoder_.Feed(std::string_view(buffer, static_cast<size_t>(received)));
  }
}

}  // namespace melodai::net
