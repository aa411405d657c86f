// A streaming multipart/form-data reader (RFC 7578) for uploads: small text fields are kept,
// the bytes of file parts are handed on as they arrive, so a form upload of any size is never
// held in memory. Fed in pieces of any size (a boundary may straddle two pieces).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace clearbox::portal {

// Largest text field, part header block and number of parts a form may have.
inline constexpr std::size_t kMaxMultipartFieldBytes = 4096;
inline constexpr std::size_t kMaxMultipartHeaderBytes = 8192;
inline constexpr std::size_t kMaxMultipartParts = 16;

// The boundary of a `multipart/form-data; boundary=...` Content-Type; nullopt otherwise.
std::optional<std::string> MultipartBoundary(std::string_view content_type);

class MultipartReader {
 public:
  // A file part begins (its field name and file name); an error stops the read.
  using FileStart = std::function<Result<void>(const std::string& field, const std::string& file)>;
  // The next bytes of the current file part; an error stops the read.
  using FileBytes = std::function<Result<void>(std::string_view bytes)>;

  MultipartReader(std::string boundary, FileStart on_file_start, FileBytes on_file_bytes);

  // Consumes the next piece of the body. kMalformed for a broken form, kLimitExceeded past a
  // limit above, or the callbacks' errors; the reader is unusable after an error.
  [[nodiscard]] Result<void> Feed(std::string_view bytes);
  // The body ended: kMalformed unless the closing boundary was seen.
  [[nodiscard]] Result<void> Finish() const;
  // The text fields read so far (a field name used twice is kMalformed).
  const std::map<std::string, std::string>& fields() const { return fields_; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kDone };
  Result<void> Step(bool& progressed);
  Result<void> StartPart(std::string_view headers);
  Result<void> EmitBody(std::string_view bytes);

  std::string delimiter_;  // "\r\n--" + boundary
  FileStart on_file_start_;
  FileBytes on_file_bytes_;
  std::string pending_;
  State state_ = State::kPreamble;
  std::size_t parts_ = 0;
  bool in_file_ = false;
  std::string field_;  // the current text field's name
  std::map<std::string, std::string> fields_;
};

}  // namespace clearbox::portal
