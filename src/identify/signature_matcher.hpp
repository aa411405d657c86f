// Version-signature rules (data/signatures/*.json) and the matcher that runs all of them
// over a file in one vectorscan pass.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/pattern_set.hpp"
#include "core/result.hpp"
#include "core/severity.hpp"

namespace clearbox::identify {

// Caps on the work one file may cause.
inline constexpr std::size_t kMaxRawMatchesPerFile = 200000;   // vectorscan match ends kept
inline constexpr std::size_t kMaxConfirmationsPerFile = 4096;  // std::regex confirmations
inline constexpr std::size_t kMaxMatchBytes = 512;             // longest match we confirm
inline constexpr std::size_t kMaxVersionLength = 64;
inline constexpr std::size_t kMaxRuleFileBytes = 4u << 20;

// One way to see a component: a byte pattern over file contents (`regex`) or, when `regex`
// is empty, a pattern over the file's path (`path_regex` then carries the version capture).
struct SignaturePattern {
  std::string regex;       // PCRE subset shared by vectorscan and std::regex; group 1 = version
  std::string path_regex;  // optional constraint on the path (std::regex search)
  std::string method = "signature";  // evidence method reported for hits
  Confidence confidence{0.8};
  bool single = false;       // drop the file's hits of this pattern when they disagree on version
  bool join_groups = false;  // version = all groups joined with '.', leading zeros dropped
  // Each match is a library's own banner (e.g. "OpenSSL 1.0.2k  26 Jan 2017"), so distinct
  // versions of this pattern in one file are distinct copies (static links) and all are kept;
  // otherwise one version per (rule, file) survives (SelectVersions).
  bool copies = false;
};

// A component and the patterns that reveal it (one entry of a rule file's "rules" array).
struct SignatureRule {
  std::string component;                   // our component name, e.g. "openssl"
  std::string vendor, product;             // CPE 2.3 vendor and product
  std::string purl_name;                   // pkg:generic/<purl_name>, defaults to component
  std::vector<std::string> packages;       // distro binary or source package names that are it
  std::vector<SignaturePattern> patterns;  // may be empty: the rule then only names packages
  // Library names (prefixes of DT_NEEDED entries, e.g. "libcrypto.so"): a hit in an ELF file
  // that links such a library dynamically (and is not it) is the header version the program
  // was built against, not a copy of the component, and is dropped.
  std::vector<std::string> linked_as;
  std::string origin;  // rule file name, for messages
};

// Parses one rule file ({"rules": [...]}); `origin` names it in errors.
Result<std::vector<SignatureRule>> ParseSignatureRules(std::string_view json,
                                                       std::string_view origin);

// Loads every *.json under `dir` in name order.
Result<std::vector<SignatureRule>> LoadSignatureRules(const std::filesystem::path& dir);

// One confirmed match: which rule and pattern, the version captured and where.
struct SignatureHit {
  std::uint32_t rule = 0;
  std::uint32_t pattern = 0;
  std::string version;
  std::string matched;  // the matched bytes, escaped (\xNN) and shortened
  std::uint64_t offset = 0;
  // The text around the match merely mentions the version ("added in curl 7.66.0",
  // "7.61.0 or later"): it does not identify the program holding it.
  bool mention = false;
  std::uint32_t occurrences = 1;  // confirmed matches of this (rule, pattern, version)
  // Kernel hits: the release string (uname -r) the version was read from, and the
  // distribution's package version when the banner names one ("6.1.192-3").
  std::string release;
  std::string distro_version;
};

// The upstream version of a Linux kernel from a banner ("Linux version <release> (...) ...",
// or the bzImage header form "<release> (...) #1 ..."), a vermagic value or a release alone.
// Debian ("... #1 SMP Debian 6.1.192-3 (date)" -> 6.1.192), Ubuntu ("(Ubuntu
// 5.15.0-91.101-generic 5.15.131)" -> 5.15.131), otherwise the release's leading numeric
// version ("4.14.180-yocto-standard" -> 4.14.180, "5.10.176" OpenWrt, "3.10.14-rt").
struct KernelRelease {
  std::string upstream;        // "6.1.192"
  std::string release;         // "6.1.0-57-cloud-amd64"
  std::string distro_version;  // "6.1.192-3" (Debian), "5.15.0-91.101" (Ubuntu) or empty
};
KernelRelease ParseKernelBanner(std::string_view banner);

// Keeps one version per rule among one file's hits (sorted as Scan returns them): mentions
// are dropped; the version of the best remaining hit (pattern confidence, then number of
// occurrences, then the highest version) wins, with every hit of that version; other versions
// survive only from `copies` patterns. Result sorted by rule, pattern, version.
void SelectVersions(std::vector<SignatureHit>& hits, const std::vector<SignatureRule>& rules);

// All rules compiled into one vectorscan database (match ends only); each end is confirmed,
// and its version read, by the same pattern in std::regex anchored at that end. Scan is
// thread-safe (per-thread scratch).
class SignatureMatcher {
 public:
  // Compiles every content pattern into one database and every pattern into std::regex.
  static Result<std::shared_ptr<const SignatureMatcher>> Build(std::vector<SignatureRule> rules);
  ~SignatureMatcher();
  SignatureMatcher(const SignatureMatcher&) = delete;
  SignatureMatcher& operator=(const SignatureMatcher&) = delete;

  // Hits in `data` (a file whose tree path is `path`), sorted by rule, pattern, offset;
  // one hit per (rule, pattern, version).
  // `*capped` (optional) tells whether a per-file cap stopped the scan early.
  Result<std::vector<SignatureHit>> Scan(ByteView data, std::string_view path,
                                         bool* capped = nullptr) const;

  // Hits of path-only patterns for `path`.
  std::vector<SignatureHit> ScanPath(std::string_view path) const;

  const std::vector<SignatureRule>& rules() const { return rules_; }

 private:
  SignatureMatcher() = default;
  struct Compiled {
    std::uint32_t rule = 0, pattern = 0;
    std::regex content_at_end;  // "(?:regex)$": confirms a match ending at a window's end
    std::regex path;            // constraint or path-only pattern
    bool has_path = false;
  };
  std::optional<PatternSet> content_set_;  // every content pattern; id = index into content_
  std::vector<SignatureRule> rules_;
  std::vector<Compiled> content_;  // indexed by vectorscan id
  std::vector<Compiled> path_only_;
};

// "cpe:2.3:a:<vendor>:<product>:<version>:*:*:*:*:*:*:*" with CPE 2.3 escaping.
std::string MakeCpe(std::string_view vendor, std::string_view product, std::string_view version);

// Percent-encodes a PURL name or version segment (keeps A-Z a-z 0-9 . - _ ~ and ':').
std::string PurlEncode(std::string_view text);

// Printable form of matched bytes: ASCII kept, others as \xNN, at most `max_chars`.
std::string EscapeMatched(std::string_view bytes, std::size_t max_chars = 160);

}  // namespace clearbox::identify
