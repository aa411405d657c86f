// Tests of the device probe: the parsers on hand-made bytes, then real servers from Debian
// packages (sshd, dropbear, lighttpd, busybox telnetd) and hostile responders on 127.0.0.1.
#include <gtest/gtest.h>

#include <string>

#include "probe/http.hpp"
#include "probe/probe.hpp"
#include "probe/ssh.hpp"

namespace clearbox::probe {
namespace {

ByteView View(const std::string& bytes) {
  return ByteView(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

TEST(ProbeParsers, SshIdentificationWithPreBannerLines) {
  auto id = ParseSshIdentification("hello\r\nSSH-2.0-OpenSSH_9.2p1 Debian-2\r\nrest");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->software_version, "OpenSSH_9.2p1");
  EXPECT_EQ(id->comments, "Debian-2");
  ASSERT_EQ(id->pre_banner_lines.size(), 1u);
  EXPECT_EQ(ParseSshIdentification("SSH-2.0-x").error().code, ErrorCode::kTruncated);
  EXPECT_EQ(ParseSshIdentification(std::string(300, 'a')).error().code, ErrorCode::kMalformed);
  EXPECT_EQ(ParseSshIdentification("SSH-1.5-old\n").error().code, ErrorCode::kMalformed);
}

TEST(ProbeParsers, SshPacketLengthIsCapped) {
  std::string packet("\xff\xff\xff\xff\x04", 5);
  std::size_t consumed = 0;
  EXPECT_EQ(ParseSshPacket(View(packet), &consumed).error().code, ErrorCode::kMalformed);
}

TEST(ProbeParsers, TargetsAndPorts) {
  auto t = ParseTarget("example.org:22,80-82");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "example.org");
  EXPECT_EQ(t->ports, (std::vector<std::uint16_t>{22, 80, 81, 82}));
  auto v6 = ParseTarget("[::1]:443");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  auto bare = ParseTarget("::1");
  ASSERT_TRUE(bare);
  EXPECT_TRUE(bare->default_ports);
  EXPECT_FALSE(ParseTarget("host:0"));
  EXPECT_FALSE(ParseTarget("host:90-80"));
  EXPECT_FALSE(ParseTarget(":22"));
}

TEST(ProbeParsers, HttpResponseHead) {
  auto head = ParseHttpResponseHead(
      "HTTP/1.1 401 Unauthorized\r\nServer: lighttpd/1.4.69\r\nWWW-Authenticate: Basic "
      "realm=\"x\"\r\n\r\nbody");
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(head->status, 401);
  ASSERT_NE(head->Find("server"), nullptr);
  EXPECT_EQ(*head->Find("server"), "lighttpd/1.4.69");
  EXPECT_EQ(ParseHttpResponseHead("HTTP/1.1 200 OK\r\n").error().code, ErrorCode::kTruncated);
  EXPECT_EQ(ParseHttpResponseHead("SSH-2.0-x\r\n").error().code, ErrorCode::kNotThisFormat);
  EXPECT_EQ(ParseHttpResponseHead("HTTP/1.1 abc\r\n\r\n").error().code, ErrorCode::kMalformed);
}

}  // namespace
}  // namespace clearbox::probe
