// MelodAI — licensed under the Apache License 2.0.
// Loopback tests of ClientServer with BlockingClient: request/reply round trips on several
// connections, oversize requests closing only the offending connection, replies to a closed
// connection counted as dropped, and receive timeouts.
#include "net/client_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "net/blocking_client.h"

namespace melodai::net {
namespace {

std::unique_ptr<ClientServer> StartEchoServer(ClientServer** self) {
  ClientServerOptions options;
  options.max_frame_bytes = 1024;
  auto server = ClientServer::Create(options, [self](ClientConnectionId id, std::string payload) {
    (*self)->Reply(id, "echo:" + payload);
  });
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  *self = server->get();
  (*server)->Start();
  return std::move(server).value();
}

TEST(ClientServerTest, EchoesOnSeveralConnections) {
  ClientServer* raw = nullptr;
  auto server = StartEchoServer(&raw);
  auto first = BlockingClient::Connect("127.0.0.1", server->port(), 5000);
  auto second = BlockingClient::Connect("localhost", server->port(), 5000);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE((*first)->SendMany({"a", "b", "c"}).ok());
  ASSERT_TRUE((*second)->Send("z").ok());
  for (const char* expected : {"echo:a", "echo:b", "echo:c"}) {
    auto reply = (*first)->Receive(10000);
    ASSERT_TRUE(reply.ok() && reply->has_value()) << reply.status().ToString();
    EXPECT_EQ(**reply, expected);
  }
  auto reply = (*second)->Receive(10000);
  ASSERT_TRUE(reply.ok() && reply->has_value());
  EXPECT_EQ(**reply, "echo:z");
  auto nothing = (*second)->Receive(50);
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
  EXPECT_EQ(server->stats().requests, 4u);
}

TEST(ClientServerTest, OversizeRequestClosesOnlyThatConnection) {
  ClientServer* raw = nullptr;
  auto server = StartEchoServer(&raw);
  auto bad = BlockingClient::Connect("127.0.0.1", server->port(), 5000);
  auto good = BlockingClient::Connect("127.0.0.1", server->port(), 5000);
  ASSERT_TRUE(bad.ok() && good.ok());
  ASSERT_TRUE((*bad)->Send(std::string(2000, 'x')).ok());
  auto closed = (*bad)->Receive(10000);
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.status().code(), core::StatusCode::kUnavailable);
  ASSERT_TRUE((*good)->Send("still here").ok());
  auto reply = (*good)->Receive(10000);
  ASSERT_TRUE(reply.ok() && reply->has_value());
  EXPECT_EQ(**reply, "echo:still here");
  EXPECT_GE(server->stats().rejected, 1u);
}

TEST(ClientServerTest, RepliesToUnknownConnectionsAreCounted) {
  ClientServer* raw = nullptr;
  auto server = StartEchoServer(&raw);
  server->Reply(12345, "nobody");
  for (int i = 0; i < 1000 && server->stats().dropped_replies == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(server->stats().dropped_replies, 1u);
}

TEST(ClientServerTest, ConnectToAClosedPortFails) {
  ClientServer* raw = nullptr;
  auto server = StartEchoServer(&raw);
  const uint16_t port = server->port();
  server.reset();
  auto client = BlockingClient::Connect("127.0.0.1", port, 2000);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(BlockingClient::Connect("not-an-ip", port, 100).status().code(),
            core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace melodai::net
