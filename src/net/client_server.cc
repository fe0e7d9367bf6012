// MelodAI — licensed under the Apache License 2.0.
// ClientServer on its own io_context thread, built on internal::Connection.
#include "net/client_server.h"

#include <asio.hpp>
#include <fmt/format.h>

#include <atomic>
#include <map>
#include <thread>

#include "core/logging.h"
#include "net/internal/connection.h"

namespace melodai::net {

using asio::ip::tcp;
using internal::Connection;

struct ClientServer::Impl {
  Impl(const ClientServerOptions& server_options, RequestHandler request_handler)
      : options(server_options),
        handler(std::move(request_handler)),
        acceptor(io),
        work(asio::make_work_guard(io)) {}

  void AcceptNext();
  void OnAccepted(tcp::socket socket);
  void DeliverReply(ClientConnectionId id, std::string payload);

  ClientServerOptions options;
  RequestHandler handler;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
  bool started = false;
  bool stopping = false;  // Network thread only.
  std::map<ClientConnectionId, std::shared_ptr<Connection>> connections;  // Network thread only.
  ClientConnectionId next_id = 1;
  std::atomic<uint64_t> accepted{0}, rejected{0}, requests{0}, replies{0}, dropped_replies{0};
};

void ClientServer::Impl::AcceptNext() {
  acceptor.async_accept([this](asio::error_code error, tcp::socket socket) {
    if (stopping) return;
    if (error) {
      MELODAI_LOG_WARN("client port: accept failed: {}", error.message());
    } else {
      OnAccepted(std::move(socket));
    }
    AcceptNext();
  });
}

void ClientServer::Impl::OnAccepted(tcp::socket socket) {
  if (connections.size() >= options.max_connections) {
    rejected.fetch_add(1);
    asio::error_code ignored;
    socket.close(ignored);
    return;
  }
  accepted.fetch_add(1);
  const ClientConnectionId id = next_id++;
  auto connection = std::make_shared<Connection>(std::move(socket), options.max_frame_bytes);
  connections.emplace(id, connection);
  connection->Start(
      [this, id](std::string payload) {
        requests.fetch_add(1);
        handler(id, std::move(payload));
      },
      [this, id](const core::Status& reason) {
        if (reason.code() == core::StatusCode::kResourceExhausted) rejected.fetch_add(1);
        // Erase after the Connection's own handler has returned.
        asio::post(io, [this, id] { connections.erase(id); });
      },
      nullptr);
}

void ClientServer::Impl::DeliverReply(ClientConnectionId id, std::string payload) {
  auto found = connections.find(id);
  if (found == connections.end() || found->second->closed()) {
    dropped_replies.fetch_add(1);
    return;
  }
  if (found->second->pending_frames() >= options.max_pending_replies_per_connection) {
    rejected.fetch_add(1);
    found->second->Close(core::ResourceExhaustedError("client does not read its replies"));
    return;
  }
  replies.fetch_add(1);
  found->second->Write(EncodeFrame(payload));
}

ClientServer::ClientServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClientServer::~ClientServer() { Stop(); }

core::Result<std::unique_ptr<ClientServer>> ClientServer::Create(
    const ClientServerOptions& options, RequestHandler handler) {
  MELODAI_CHECK(handler != nullptr);
  asio::error_code error;
  const asio::ip::address address =
      asio::ip::make_address(options.host == "localhost" ? "127.0.0.1" : options.host, error);
  if (error) {
    return core::InvalidArgumentError(fmt::format("client port: bad address '{}'", options.host));
  }
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  const tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), error);
  if (!error) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) impl->acceptor.bind(endpoint, error);
  if (!error) impl->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return core::UnavailableError(fmt::format("client port: cannot listen on {}:{}: {}",
                                              options.host, options.port, error.message()));
  }
  return std::unique_ptr<ClientServer>(new ClientServer(std::move(impl)));
}

void ClientServer::Start() {
  MELODAI_CHECK(!impl_->started);
  impl_->started = true;
  asio::post(impl_->io, [impl = impl_.get()] { impl->AcceptNext(); });
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

void ClientServer::Stop() {
  if (impl_ == nullptr || !impl_->thread.joinable()) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->stopping = true;
    asio::error_code ignored;
    impl->acceptor.close(ignored);
    std::vector<std::shared_ptr<Connection>> open;
    for (auto& [id, connection] : impl->connections) open.push_back(connection);
    for (auto& connection : open) connection->Close(core::AbortedError("stopping"));
    impl->work.reset();
  });
  impl_->thread.join();
}

void ClientServer::Reply(ClientConnectionId connection, std::string payload) {
  asio::post(impl_->io, [impl = impl_.get(), connection, payload = std::move(payload)]() mutable {
    impl->DeliverReply(connection, std::move(payload));
  });
}

uint16_t ClientServer::port() const {
  asio::error_code error;
  const tcp::endpoint endpoint = impl_->acceptor.local_endpoint(error);
  return error ? 0 : endpoint.port();
}

ClientServerStats ClientServer::stats() const {
  ClientServerStats result;
  result.accepted = impl_->accepted.load();
  result.rejected = impl_->rejected.load();
  result.requests = impl_->requests.load();
  result.replies = impl_->replies.load();
  result.dropped_replies = impl_->dropped_replies.load();
  return result;
}

}  // namespace melodai::net
