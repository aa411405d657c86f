#include "portal/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace clearbox::portal {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The parameters of a header value ("form-data; name=\"a\"; filename=\"b\""), keys lower-case.
std::map<std::string, std::string> Parameters(std::string_view value) {
  std::map<std::string, std::string> out;
  std::size_t i = value.find(';');
  while (i != std::string_view::npos && i < value.size()) {
    ++i;
    const std::size_t eq = value.find('=', i);
    if (eq == std::string_view::npos) break;
    std::string key(Trim(value.substr(i, eq - i)));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::size_t j = eq + 1;
    while (j < value.size() && value[j] == ' ') ++j;
    std::string text;
    if (j < value.size() && value[j] == '"') {
      for (++j; j < value.size() && value[j] != '"'; ++j) {
        if (value[j] == '\\' && j + 1 < value.size()) ++j;
        text.push_back(value[j]);
      }
      i = value.find(';', j);
    } else {
      const std::size_t end = value.find(';', j);
      text = std::string(Trim(value.substr(j, end == std::string_view::npos ? end : end - j)));
      i = end;
    }
    out.emplace(std::move(key), std::move(text));
  }
  return out;
}

}  // namespace

std::optional<std::string> MultipartBoundary(std::string_view content_type) {
  const std::size_t semi = content_type.find(';');
  if (!IEquals(Trim(content_type.substr(0, semi)), "multipart/form-data")) return std::nullopt;
  const auto params = Parameters(content_type);
  auto it = params.find("boundary");
  if (it == params.end() || it->second.empty() || it->second.size() > 70) return std::nullopt;
  return it->second;
}

MultipartReader::MultipartReader(std::string boundary, FileStart on_file_start,
                                 FileBytes on_file_bytes)
    : delimiter_("\r\n--" + boundary),
      on_file_start_(std::move(on_file_start)),
      on_file_bytes_(std::move(on_file_bytes)),
      pending_("\r\n") {}  // the first boundary may open the body without a line break

Result<void> MultipartReader::Feed(std::string_view bytes) {
  if (state_ == State::kDone) return {};  // the epilogue is ignored
  pending_.append(bytes);
  for (bool progressed = true; progressed;) {
    progressed = false;
    CLEARBOX_TRY(Step(progressed));
  }
  return {};
}

Result<void> MultipartReader::Finish() const {
  if (state_ != State::kDone)
    return Fail(ErrorCode::kMalformed, "the form ends before its last boundary");
  return {};
}

Result<void> MultipartReader::Step(bool& progressed) {
  switch (state_) {
    case State::kPreamble:
    case State::kBody: {
      const std::size_t at = pending_.find(delimiter_);
      if (at == std::string::npos) {
        // Everything but a possible start of the delimiter is body (or preamble, dropped).
        const std::size_t keep = std::min(pending_.size(), delimiter_.size() - 1);
        if (state_ == State::kBody) {
          CLEARBOX_TRY(EmitBody(std::string_view(pending_).substr(0, pending_.size() - keep)));
        }
        pending_.erase(0, pending_.size() - keep);
        return {};
      }
      if (state_ == State::kBody) CLEARBOX_TRY(EmitBody(std::string_view(pending_).substr(0, at)));
      pending_.erase(0, at + delimiter_.size());
      in_file_ = false;
      state_ = State::kAfterDelimiter;
      progressed = true;
      return {};
    }
    case State::kAfterDelimiter: {
      if (pending_.size() < 2) return {};
      if (pending_.compare(0, 2, "--") == 0) {
        state_ = State::kDone;
        pending_.clear();
        return {};
      }
      if (pending_.compare(0, 2, "\r\n") != 0) {
        return Fail(ErrorCode::kMalformed, "a form boundary is followed by garbage");
      }
      pending_.erase(0, 2);
      state_ = State::kHeaders;
      progressed = true;
      return {};
    }
    case State::kHeaders: {
      const std::size_t end = pending_.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (pending_.size() > kMaxMultipartHeaderBytes) {
          return Fail(ErrorCode::kLimitExceeded, "a form part's headers are too long");
        }
        return {};
      }
      if (end > kMaxMultipartHeaderBytes) {
        return Fail(ErrorCode::kLimitExceeded, "a form part's headers are too long");
      }
      CLEARBOX_TRY(StartPart(std::string_view(pending_).substr(0, end + 2)));
      pending_.erase(0, end + 4);
      state_ = State::kBody;
      progressed = true;
      return {};
    }
    case State::kDone: return {};
  }
  return {};
}

Result<void> MultipartReader::StartPart(std::string_view headers) {
  if (++parts_ > kMaxMultipartParts) return Fail(ErrorCode::kLimitExceeded, "too many form parts");
  std::optional<std::map<std::string, std::string>> disposition;
  while (!headers.empty()) {
    const std::size_t eol = headers.find("\r\n");
    const std::string_view line = headers.substr(0, eol);
    headers.remove_prefix(eol == std::string_view::npos ? headers.size() : eol + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    if (IEquals(Trim(line.substr(0, colon)), "content-disposition")) {
      const std::string_view value = Trim(line.substr(colon + 1));
      if (!IEquals(Trim(value.substr(0, value.find(';'))), "form-data")) {
        return Fail(ErrorCode::kMalformed, "a form part is not form-data");
      }
      disposition = Parameters(value);
    }
  }
  if (!disposition || !disposition->contains("name") || (*disposition)["name"].empty()) {
    return Fail(ErrorCode::kMalformed, "a form part has no name");
  }
  const std::string name = (*disposition)["name"];
  if (disposition->contains("filename")) {
    in_file_ = true;
    return on_file_start_(name, (*disposition)["filename"]);
  }
  if (fields_.contains(name))
    return Fail(ErrorCode::kMalformed, "form field " + name + " repeated");
  field_ = name;
  fields_.emplace(name, std::string());
  return {};
}

Result<void> MultipartReader::EmitBody(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (in_file_) return on_file_bytes_(bytes);
  std::string& value = fields_[field_];
  if (value.size() + bytes.size() > kMaxMultipartFieldBytes) {
    return Fail(ErrorCode::kLimitExceeded, "form field " + field_ + " is too long");
  }
  value.append(bytes);
  return {};
}

}  // namespace clearbox::portal
