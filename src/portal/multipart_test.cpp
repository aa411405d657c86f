// The streaming multipart/form-data reader: the same fields and file bytes whatever the pieces
// the body arrives in (a boundary split across two pieces included), and refusals of broken or
// oversized forms.
#include "portal/multipart.hpp"

#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace clearbox::portal {
namespace {

const std::string kBoundary = "----b0undary";

std::string Body(const std::string& file) {
  return "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntoken\r\n--" +
         kBoundary + "\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n1.0\r\n--" +
         kBoundary +
         "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fw \\\"x\\\".bin\"\r\n"
         "Content-Type: application/octet-stream\r\n\r\n" +
         file + "\r\n--" + kBoundary + "--\r\n";
}

struct Parsed {
  std::string file;
  std::string file_name;
  std::map<std::string, std::string> fields;
  Result<void> result;
};

Parsed Parse(const std::string& body, std::size_t piece) {
  Parsed out;
  MultipartReader reader(
      kBoundary,
      [&](const std::string& field, const std::string& name) -> Result<void> {
        EXPECT_EQ(field, "file");
        out.file_name = name;
        return {};
      },
      [&](std::string_view bytes) -> Result<void> {
        out.file.append(bytes);
        return {};
      });
  for (std::size_t at = 0; at < body.size(); at += piece) {
    out.result = reader.Feed(std::string_view(body).substr(at, piece));
    if (!out.result) return out;
  }
  out.result = reader.Finish();
  out.fields = reader.fields();
  return out;
}

TEST(Multipart, SameResultForEveryPieceSize) {
  // The file holds near-boundaries: CR LF, "--", the boundary without its CR LF.
  const std::string file = "\r\n--" + kBoundary.substr(0, 6) + "\r\n-" +
                           clearbox::testing::PseudoRandomBytes(3, 3000) + "--" + kBoundary;
  const std::string body = Body(file);
  for (std::size_t piece : {1u, 2u, 3u, 7u, 16u, 61u, 4096u, 100000u}) {
    const Parsed parsed = Parse(body, piece);
    ASSERT_TRUE(parsed.result) << piece << ": " << parsed.result.error().message;
    EXPECT_EQ(parsed.file, file) << piece;
    EXPECT_EQ(parsed.file_name, "fw \"x\".bin");
    EXPECT_EQ(parsed.fields.at("csrf"), "token");
    EXPECT_EQ(parsed.fields.at("version"), "1.0");
  }
}

TEST(Multipart, BrokenAndOversizedFormsAreRefused) {
  const std::string body = Body("data");
  EXPECT_EQ(Parse(body.substr(0, body.size() - 10), 5).result.error().code, ErrorCode::kMalformed)
      << "no closing boundary";
  const std::string garbage = "--" + kBoundary + "xx\r\n";
  EXPECT_FALSE(Parse(garbage + body, 5).result);
  const std::string long_field =
      "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"v\"\r\n\r\n" +
      std::string(kMaxMultipartFieldBytes + 1, 'x') + "\r\n--" + kBoundary + "--\r\n";
  EXPECT_EQ(Parse(long_field, 100).result.error().code, ErrorCode::kLimitExceeded);
  const std::string long_headers =
      "--" + kBoundary + "\r\nX: " + std::string(kMaxMultipartHeaderBytes + 1, 'h');
  EXPECT_EQ(Parse(long_headers, 100).result.error().code, ErrorCode::kLimitExceeded);
  std::string many;
  for (std::size_t i = 0; i <= kMaxMultipartParts; ++i) {
    many += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"f" + std::to_string(i) +
            "\"\r\n\r\nv\r\n";
  }
  EXPECT_EQ(Parse(many + "--" + kBoundary + "--", 50).result.error().code,
            ErrorCode::kLimitExceeded);
  const std::string twice =
      "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--" +
      kBoundary + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--" + kBoundary +
      "--";
  EXPECT_EQ(Parse(twice, 9).result.error().code, ErrorCode::kMalformed);
  const std::string nameless =
      "--" + kBoundary + "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + kBoundary + "--";
  EXPECT_EQ(Parse(nameless, 9).result.error().code, ErrorCode::kMalformed);
}

TEST(Multipart, BoundaryComesFromTheContentType) {
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(MultipartBoundary("Multipart/Form-Data; charset=x; boundary=\"a b\""), "a b");
  EXPECT_FALSE(MultipartBoundary("application/x-www-form-urlencoded"));
  EXPECT_FALSE(MultipartBoundary("multipart/form-data"));
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'x')));
}

}  // namespace
}  // namespace clearbox::portal
