#include "vuln/version.hpp"

#include <array>
#include <cctype>
#include <cstddef>

namespace clearbox::vuln {
namespace {

// One lexical unit of a version part.
enum class TokenKind { kTilde, kWord, kNumber };

struct Token {
  TokenKind kind = TokenKind::kNumber;
  std::string_view text;  // digits without leading zeros, or the word (not lower-cased)
};

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Rank of a pre-release word (sorts before the end of the version), or -1.
int PreReleaseRank(std::string_view word) {
  static constexpr std::array<std::string_view, 6> kWords = {"dev", "alpha", "beta",
                                                             "pre", "rc",    "preview"};
  static constexpr std::array<int, 6> kRanks = {0, 1, 2, 3, 4, 3};
  for (std::size_t i = 0; i < kWords.size(); ++i) {
    if (word.size() != kWords[i].size()) continue;
    bool same = true;
    for (std::size_t j = 0; j < word.size() && same; ++j) same = Lower(word[j]) == kWords[i][j];
    if (same) return kRanks[i];
  }
  return -1;
}

// Reads the next token of `part` from `*pos`; false at the end.
bool NextToken(std::string_view part, std::size_t* pos, Token* token) {
  std::size_t i = *pos;
  while (i < part.size() && part[i] != '~' && !IsDigit(part[i]) && !IsAlpha(part[i])) ++i;
  if (i >= part.size()) {
    *pos = i;
    return false;
  }
  if (part[i] == '~') {
    *token = Token{TokenKind::kTilde, part.substr(i, 1)};
    *pos = i + 1;
    return true;
  }
  std::size_t start = i;
  if (IsDigit(part[i])) {
    while (i < part.size() && IsDigit(part[i])) ++i;
    std::size_t first = start;
    while (first + 1 < i && part[first] == '0') ++first;  // keep one zero
    *token = Token{TokenKind::kNumber, part.substr(first, i - first)};
  } else {
    while (i < part.size() && IsAlpha(part[i])) ++i;
    *token = Token{TokenKind::kWord, part.substr(start, i - start)};
  }
  *pos = i;
  return true;
}

bool IsZero(const Token& t) {
  return t.kind == TokenKind::kNumber && t.text == "0";
}

int CompareWords(std::string_view a, std::string_view b) {
  const int ra = PreReleaseRank(a);
  const int rb = PreReleaseRank(b);
  if (ra >= 0 && rb >= 0) return ra < rb ? -1 : (ra > rb ? 1 : 0);
  if (ra >= 0) return -1;
  if (rb >= 0) return 1;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const char ca = Lower(a[i]);
    const char cb = Lower(b[i]);
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

int CompareNumbers(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// Sign of "the side that still has tokens, starting at `pos`" against an ended side:
// zeros are skipped; then '~' or a pre-release word make it smaller, anything else larger.
int CompareRestWithEnd(std::string_view part, std::size_t pos, Token first) {
  Token t = first;
  for (;;) {
    if (!IsZero(t)) {
      if (t.kind == TokenKind::kTilde) return -1;
      if (t.kind == TokenKind::kWord && PreReleaseRank(t.text) >= 0) return -1;
      return 1;
    }
    if (!NextToken(part, &pos, &t)) return 0;
  }
}

// `part` without its trailing zero numbers (and the separators before them), so that a
// zero is only insignificant when nothing but zeros follows it: 1.0.0 == 1.0 < 1.0a.
std::string_view WithoutTrailingZeros(std::string_view part) {
  std::size_t pos = 0;
  std::size_t end = 0;
  Token t;
  while (NextToken(part, &pos, &t)) {
    if (!IsZero(t)) end = pos;
  }
  return part.substr(0, end);
}

int CompareParts(std::string_view a, std::string_view b) {
  a = WithoutTrailingZeros(a);
  b = WithoutTrailingZeros(b);
  std::size_t pa = 0;
  std::size_t pb = 0;
  for (;;) {
    Token ta;
    Token tb;
    const bool ha = NextToken(a, &pa, &ta);
    const bool hb = NextToken(b, &pb, &tb);
    if (!ha && !hb) return 0;
    if (!hb) return CompareRestWithEnd(a, pa, ta);
    if (!ha) return -CompareRestWithEnd(b, pb, tb);
    if (ta.kind != tb.kind) {
      if (ta.kind == TokenKind::kTilde) return -1;
      if (tb.kind == TokenKind::kTilde) return 1;
      return ta.kind == TokenKind::kWord ? -1 : 1;  // a word sorts before a number
    }
    int c = 0;
    if (ta.kind == TokenKind::kNumber) c = CompareNumbers(ta.text, tb.text);
    if (ta.kind == TokenKind::kWord) c = CompareWords(ta.text, tb.text);
    if (c != 0) return c;
  }
}

// Splits off a Debian epoch ("N:"); absent means "0".
std::string_view SplitEpoch(std::string_view* version) {
  std::size_t i = 0;
  while (i < version->size() && IsDigit((*version)[i])) ++i;
  if (i > 0 && i < version->size() && (*version)[i] == ':') {
    std::string_view epoch = version->substr(0, i);
    version->remove_prefix(i + 1);
    while (epoch.size() > 1 && epoch.front() == '0') epoch.remove_prefix(1);
    return epoch;
  }
  return "0";
}

// Next '-'-separated part of `*rest`, consumed; false when nothing is left.
bool NextPart(std::string_view* rest, std::string_view* part) {
  if (rest->empty()) return false;
  const std::size_t dash = rest->find('-');
  *part = rest->substr(0, dash);
  rest->remove_prefix(dash == std::string_view::npos ? rest->size() : dash + 1);
  return true;
}

}  // namespace

int CompareVersions(std::string_view a, std::string_view b) {
  a = Trim(a);
  b = Trim(b);
  const int epoch = CompareNumbers(SplitEpoch(&a), SplitEpoch(&b));
  if (epoch != 0) return epoch;
  for (;;) {
    std::string_view part_a;
    std::string_view part_b;
    const bool ha = NextPart(&a, &part_a);
    const bool hb = NextPart(&b, &part_b);
    if (!ha && !hb) return 0;
    const int c = CompareParts(ha ? part_a : std::string_view{}, hb ? part_b : std::string_view{});
    if (c != 0) return c;
  }
}

bool IsKnownVersion(std::string_view version) {
  version = Trim(version);
  if (version.empty() || version == "*" || version == "-") return false;
  if (version.size() == 7) {
    bool unknown = true;
    for (std::size_t i = 0; i < 7; ++i) unknown = unknown && Lower(version[i]) == "unknown"[i];
    if (unknown) return false;
  }
  return true;
}

}  // namespace clearbox::vuln
