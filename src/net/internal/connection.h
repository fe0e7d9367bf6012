// MelodAI — licensed under the Apache License 2.0.
// Internal to net/: one TCP connection carrying length-prefixed frames over Asio, shared by
// AsioTransport (validators) and ClientServer (clients). Includes Asio, so only net/*.cc may
// include this header.
#pragma once

#include <asio.hpp>
#include <fmt/format.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "net/frame.h"

namespace melodai::net::internal {

inline constexpr size_t kReadChunkBytes = 64u << 10;
// Frames handed to one gather write; bounds the memory moved out of a peer's queue at once.
inline constexpr size_t kMaxWriteBatchMessages = 512;

// One TCP connection carrying frames. Reads continuously; writes are serialized through a
// queue. Close() runs the close handler exactly once.
// Invariants: at most one async_write in flight (writing_); after closed_ no handler but the
// close handler is called and no new operation starts. Network thread only.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using FrameHandler = std::function<void(std::string payload)>;
  using CloseHandler = std::function<void(const core::Status& reason)>;
  using DrainHandler = std::function<void()>;

  Connection(asio::ip::tcp::socket socket, size_t max_frame_bytes)
      : socket_(std::move(socket)), decoder_(max_frame_bytes), buffer_(kReadChunkBytes) {}

  void Start(FrameHandler on_frame, CloseHandler on_close, DrainHandler on_drain) {
    on_frame_ = std::move(on_frame);
    on_close_ = std::move(on_close);
    on_drain_ = std::move(on_drain);
    asio::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    ReadMore();
  }

  void Write(std::string frame) {
    if (closed_) return;
    queue_.push_back(std::move(frame));
    WriteNext();
  }

  void WriteMany(std::vector<std::string> frames) {
    if (closed_) return;
    for (std::string& frame : frames) queue_.push_back(std::move(frame));
    WriteNext();
  }

  void Close(const core::Status& reason) {
    if (closed_) return;
    closed_ = true;
    asio::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    queue_.clear();
    CloseHandler on_close = std::move(on_close_);
    on_frame_ = nullptr;
    on_drain_ = nullptr;
    if (on_close) on_close(reason);
  }

  bool writing() const { return writing_; }
  // Frames queued or being written.
  size_t pending_frames() const { return queue_.size() + in_flight_.size(); }
  bool closed() const { return closed_; }

 private:
  void ReadMore() {
    socket_.async_read_some(
        asio::buffer(buffer_), [self = shared_from_this()](asio::error_code error, size_t size) {
          self->OnRead(error, size);
        });
  }

  void OnRead(asio::error_code error, size_t size) {
    if (closed_) return;
    if (error) {
      Close(core::UnavailableError(fmt::format("connection lost: {}", error.message())));
      return;
    }
    decoder_.Feed(std::string_view(buffer_.data(), size));
    while (!closed_) {
      auto frame = decoder_.Next();
      if (!frame.ok()) {
        Close(frame.status());
        return;
      }
      if (!frame->has_value()) break;
      on_frame_(std::move(**frame));
    }
    if (!closed_) ReadMore();
  }

  void WriteNext() {
    if (writing_ || closed_) return;
    if (queue_.empty()) {
      if (on_drain_) on_drain_();
      return;
    }
    in_flight_.assign(std::make_move_iterator(queue_.begin()),
                      std::make_move_iterator(queue_.end()));
    queue_.clear();
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(in_flight_.size());
    for (const std::string& frame : in_flight_) buffers.push_back(asio::buffer(frame));
    writing_ = true;
    asio::async_write(socket_, buffers,
                      [self = shared_from_this()](asio::error_code error, size_t) {
                        self->writing_ = false;
                        self->in_flight_.clear();
                        if (self->closed_) return;
                        if (error) {
                          self->Close(core::UnavailableError(
                              fmt::format("write failed: {}", error.message())));
                          return;
                        }
                        self->WriteNext();
                      });
  }

  asio::ip::tcp::socket socket_;
  FrameDecoder decoder_;
  std::vector<char> buffer_;
  std::deque<std::string> queue_;
  std::vector<std::string> in_flight_;
  bool writing_ = false;
  bool closed_ = false;
  FrameHandler on_frame_;
  CloseHandler on_close_;
  DrainHandler on_drain_;
};

}  // namespace melodai::net::internal
