#include "portal/form.hpp"

#include <span>

#include "core/byte_reader.hpp"

namespace clearbox::portal {
namespace {

int HexValue(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One form component with '+' as space and %XX decoded.
Result<std::string> DecodeComponent(std::string_view text) {
  ByteReader reader(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  std::string out;
  out.reserve(text.size());
  while (reader.Remaining() > 0) {
    auto byte = reader.U8();
    if (!byte) return Forward(byte);
    std::uint8_t c = *byte;
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      auto digits = reader.Bytes(2);
      if (!digits) return Fail(ErrorCode::kMalformed, "truncated %-escape in a form");
      const int hi = HexValue((*digits)[0]), lo = HexValue((*digits)[1]);
      if (hi < 0 || lo < 0) return Fail(ErrorCode::kMalformed, "bad %-escape in a form");
      c = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    if (c == 0) return Fail(ErrorCode::kMalformed, "NUL in a form");
    out.push_back(static_cast<char>(c));
  }
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<FormFields> ParseForm(std::string_view body) {
  FormFields fields;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    if (fields.size() >= kMaxFormFields) {
      return Fail(ErrorCode::kLimitExceeded, "too many form fields");
    }
    const std::size_t eq = pair.find('=');
    auto name = DecodeComponent(pair.substr(0, eq));
    if (!name) return Forward(name);
    auto value =
        DecodeComponent(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!value) return Forward(value);
    if (!fields.emplace(std::move(*name), std::move(*value)).second) {
      return Fail(ErrorCode::kMalformed, "a form field is given twice");
    }
  }
  return fields;
}

std::string FormValue(const FormFields& fields, const std::string& field) {
  auto it = fields.find(field);
  return it == fields.end() ? std::string() : it->second;
}

std::map<std::string, std::string> ParseCookies(std::string_view header) {
  std::map<std::string, std::string> cookies;
  std::size_t seen = 0;
  while (!header.empty() && seen < kMaxCookies) {
    const std::size_t semicolon = header.find(';');
    const std::string_view pair = header.substr(0, semicolon);
    header =
        semicolon == std::string_view::npos ? std::string_view() : header.substr(semicolon + 1);
    ++seen;
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = Trim(pair.substr(0, eq));
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (name.empty()) continue;
    cookies.emplace(std::string(name), std::string(value));
  }
  return cookies;
}

std::optional<std::string> FindBearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != kScheme[i]) return std::nullopt;
  }
  const std::string_view token = Trim(authorization.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  return std::string(token);
}

std::optional<std::int64_t> ParseRowId(std::string_view text) {
  if (text.empty() || text.size() > kMaxIdDigits || text.front() == '0') return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace clearbox::portal
