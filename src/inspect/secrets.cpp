#include "inspect/secrets.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace clearbox::inspect {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  return out;
}

bool IsPlaceholder(std::string_view value) {
  if (value.size() < 4) return true;
  static constexpr std::string_view kBadStarts = "$%{<@([*&`\\/";
  if (kBadStarts.find(value.front()) != std::string_view::npos) return true;
  if (std::all_of(value.begin(), value.end(), [&](char c) { return c == value.front(); })) {
    return true;
  }
  const std::string lower = Lower(value);
  static constexpr std::string_view kWords[] = {
      "files",   "compat",   "none",      "null",       "nil",        "true",      "false",
      "yes",     "no",       "required",  "optional",   "sufficient", "requisite", "include",
      "empty",   "unset",    "undefined", "password",   "passwd",     "secret",    "string",
      "hidden",  "disabled", "enabled",   "nopasswd",   "prompt",     "systemd",   "ldap",
      "pass",    "pwd",      "pw",        "passphrase", "nis",        "db",        "sss",
      "winbind", "redacted", "default",   "value",      "define",     "undef"};
  if (std::find(std::begin(kWords), std::end(kWords), lower) != std::end(kWords)) return true;
  for (std::string_view marker : {"example", "your", "placeholder", "change_me", "xxx"}) {
    if (lower.find(marker) != std::string::npos) return true;
  }
  return false;
}

std::string_view Basename(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string Capitalized(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

// True when the key matched at data[start] sits where a setting's key can be: not in a
// comment, not inside the value of an earlier assignment on the same line ("secret =
// pass:x"), and preceded by a line start, blank or separator.
bool AtKeyPosition(std::string_view text, std::size_t start) {
  static constexpr std::size_t kMaxLookBack = 4096;
  std::size_t key = start;
  while (key > 0 && start - key < 64) {
    const char c = text[key - 1];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) break;
    --key;
  }
  std::size_t line = key;
  while (line > 0 && key - line < kMaxLookBack && text[line - 1] != '\n') --line;
  const std::string_view before = text.substr(line, key - line);
  const std::size_t first = before.find_first_not_of(" \t");
  if (first != std::string_view::npos &&
      (before[first] == '#' || before[first] == ';' || before.substr(first).starts_with("//") ||
       before.substr(first).starts_with("<!--"))) {
    return false;  // a commented-out line
  }
  if (before.find(" #") != std::string_view::npos || before.find("\t#") != std::string_view::npos) {
    return false;  // after an inline comment
  }
  if (before.empty()) return true;
  const char prev = before.back();
  if (prev == ' ' || prev == '\t') return before.find('=') == std::string_view::npos;
  // '$' starts a PHP/Perl variable ("$password = '...'").
  return std::string_view("&?;,{\"'($").find(prev) != std::string_view::npos;
}

}  // namespace

bool IsTextConfigFile(std::string_view path, ByteView bytes) {
  if (bytes.empty() || bytes.size() > 8 * 1024 * 1024) return false;
  const std::size_t probe = std::min<std::size_t>(bytes.size(), 8192);
  if (std::memchr(bytes.data(), 0, probe) != nullptr) return false;
  const std::string p = "/" + std::string(path);
  const std::string_view base = Basename(p);
  if (base == "nsswitch.conf" || base == "shadow" || base == "passwd" || base == "group" ||
      base == "gshadow" || base == "shadow-" || base == "passwd-") {
    return false;  // account files have their own checks
  }
  if (HasBytesAt(bytes, 0, "#!")) return true;
  if (p.find("/etc/") != std::string::npos || p.find("/www/") != std::string::npos) return true;
  if (!base.empty() && base.front() == '.') return true;
  static constexpr std::string_view kExtensions[] = {
      ".conf", ".cfg", ".cnf",  ".ini", ".config", ".properties", ".env", ".sh",   ".bash",
      ".ash",  ".lua", ".py",   ".pl",  ".php",    ".rb",         ".js",  ".json", ".yaml",
      ".yml",  ".xml", ".toml", ".cgi", ".asp",    ".htm",        ".html"};
  for (std::string_view ext : kExtensions) {
    if (base.ends_with(ext)) return true;
  }
  return false;
}

std::string AssignedValue(ByteView data, std::uint64_t value_start) {
  const std::string_view text = AsText(data);
  std::size_t pos = value_start;
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  if (pos >= text.size()) return "";
  char quote = 0;
  if (text[pos] == '"' || text[pos] == '\'') quote = text[pos++];
  const std::size_t begin = pos;
  while (pos < text.size() && pos - begin < kMaxAssignedValueBytes) {
    const char c = text[pos];
    if (c == '\n' || c == '\r' || c == '\0') break;
    if (quote ? c == quote
              : (c == ' ' || c == '\t' || c == ';' || c == ',' || c == '&' || c == '"' ||
                 c == '\'' || c == '<' || c == '(' || c == ')' || c == '[' || c == ']')) {
      break;
    }
    ++pos;
  }
  // A function call or an index ("getPassword(", "args[") is code, not a value.
  if (!quote && pos < text.size() && (text[pos] == '(' || text[pos] == '[')) return "";
  const std::string_view value = text.substr(begin, pos - begin);
  if (IsPlaceholder(value)) return "";
  return std::string(value);
}

std::string RedactSecret(std::string_view secret, std::size_t keep) {
  keep = std::min(keep, secret.size() / 2);
  return Printable(secret.substr(0, keep)) + "... (" + std::to_string(secret.size()) + " chars)";
}

void SecretFinding(const SecretRule& rule, std::string_view path, ByteView data,
                   std::uint64_t start, std::uint64_t end,
                   const std::set<std::string, std::less<>>& default_passwords,
                   std::vector<Finding>& out) {
  if (start >= end || end > data.size()) return;
  const std::string_view match = AsText(data).substr(start, end - start);
  Finding f;
  f.rule = rule.rule;
  f.path = std::string(path);
  f.offset = start;
  if (rule.kind == SecretKind::kToken) {
    f.message = "Possible " + rule.message + " embedded in the file.";
    f.evidence = RedactSecret(match, rule.keep_prefix);
  } else {
    if (!AtKeyPosition(AsText(data), start)) return;
    const std::string value = AssignedValue(data, end);
    if (value.empty()) return;
    // The whole key word ("admin_password"), not only the part the pattern names.
    const std::string_view text = AsText(data);
    std::size_t key_start = start;
    while (key_start > 0 && start - key_start < 64 &&
           (std::isalnum(static_cast<unsigned char>(text[key_start - 1])) ||
            text[key_start - 1] == '_' || text[key_start - 1] == '-' ||
            text[key_start - 1] == '.')) {
      --key_start;
    }
    std::string key(text.substr(key_start, std::min<std::size_t>(end - key_start, 128)));
    f.offset = key_start;
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    if (default_passwords.count(value) != 0) {
      f.message = Capitalized(rule.message) + " is assigned a well-known default password.";
      f.evidence = Printable(key) + " " + Printable(value);
    } else {
      f.message = Capitalized(rule.message) + " is assigned in the file.";
      f.evidence = Printable(key) + " " + RedactSecret(value, rule.keep_prefix);
    }
  }
  out.push_back(std::move(f));
}

}  // namespace clearbox::inspect
