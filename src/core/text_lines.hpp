// LineReader: the lines of a text one at a time, without copying.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace clearbox {

// One line: its bytes without the '\n' (and without a trailing '\r'), and where it starts.
struct TextLine {
  std::string_view text;
  std::uint64_t offset = 0;
};

// Splits a text at '\n'; the last line needs no terminator. The text must outlive the reader.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}

  // The next line, or nullopt at the end of the text.
  std::optional<TextLine> Next() {
    if (pos_ >= text_.size()) return std::nullopt;
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    TextLine line{text_.substr(pos_, end - pos_), pos_};
    pos_ = end + 1;
    if (!line.text.empty() && line.text.back() == '\r') line.text.remove_suffix(1);
    return line;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace clearbox
