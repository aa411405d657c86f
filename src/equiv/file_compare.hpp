// Binary equivalence of one file pair: a verdict (IDENTICAL, EQUIVALENT, DIFFERENT,
// UNCOMPARABLE) with every tolerated difference named by its class and every real difference
// located (ELF sections and functions, text lines, byte offsets).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_reader.hpp"

namespace clearbox::equiv {

// The verdict on one path.
enum class Verdict : std::uint8_t {
  kIdentical,        // same bytes (or the same symlink target)
  kEquivalent,       // differences only in tolerated classes
  kDifferent,        // a difference no tolerated class explains
  kOnlyInDelivered,  // the path exists on the delivered side only
  kOnlyInRebuilt,    // the path exists on the rebuilt side only
  kUncomparable,     // the pair cannot be compared (malformed ELF, type mismatch, ...)
};
inline constexpr std::size_t kVerdictCount = 6;

// Stable upper-case name of a verdict ("IDENTICAL", ..., "UNCOMPARABLE").
std::string_view VerdictName(Verdict verdict);

// A named kind of benign difference (docs/equiv-schema.md describes each rule).
enum class ToleratedClass : std::uint8_t {
  kBuildId,          // the GNU build-id note's descriptor
  kGnuDebuglink,     // the .gnu_debuglink section (file name and CRC of the debug file)
  kDebugInfo,        // .debug_* / .zdebug_* sections (DWARF), present or not, any content
  kSymbolTable,      // .symtab/.strtab present on one side only (one side stripped)
  kBuildPath,        // equal-length absolute path strings differing only in a directory prefix
  kBuildTimestamp,   // __DATE__ "Mmm dd yyyy" / __TIME__ "hh:mm:ss" strings
  kSectionLayout,    // section header table place/count, order and padding of unloaded parts
  kModuleSignature,  // a kernel module's appended signature ("~Module signature appended~")
  kGzipHeader,       // a gzip member's header (mtime, file name, OS): payloads compared
  kPycHeader,        // a Python .pyc header's flags and source mtime/size or hash fields
  kArchiveMetadata,  // tar/ar member timestamps, owners and member order
};
inline constexpr std::size_t kToleratedClassCount = 11;

// A class's stable name (e.g. "build-id") and its one-line rule.
struct ToleratedClassInfo {
  ToleratedClass tolerated_class;
  std::string_view name;
  std::string_view rule;
};

// Every class, in enum order.
const std::array<ToleratedClassInfo, kToleratedClassCount>& ToleratedClasses();
// The stable name of `tolerated_class`.
std::string_view ToleratedClassName(ToleratedClass tolerated_class);
// The class named `name`, if any.
std::optional<ToleratedClass> FindToleratedClass(std::string_view name);

// Which classes may explain a difference (all by default).
class Tolerances {
 public:
  // True when `tolerated_class` may explain differences.
  bool Allows(ToleratedClass tolerated_class) const {
    return allowed_[static_cast<std::size_t>(tolerated_class)];
  }
  // Makes differences of `tolerated_class` real differences.
  void Forbid(ToleratedClass tolerated_class) {
    allowed_[static_cast<std::size_t>(tolerated_class)] = false;
  }

 private:
  std::array<bool, kToleratedClassCount> allowed_ = {true, true, true, true, true, true,
                                                     true, true, true, true, true};
};

// Caps on what one comparison records (the verdict is computed on everything).
inline constexpr std::size_t kMaxWherePerClass = 16;      // places listed per tolerated class
inline constexpr std::size_t kMaxDifferencesListed = 32;  // difference entries per file
inline constexpr std::size_t kMaxFunctionsPerDifference = 16;
inline constexpr std::size_t kMaxStringRuns = 4096;          // differing runs examined as strings
inline constexpr std::size_t kMaxStringLength = 4096;        // bytes scanned for a string's ends
inline constexpr std::size_t kMaxTextDiffInput = 16u << 20;  // larger files are compared as bytes
inline constexpr std::size_t kMaxTextDiffLines = 60;         // lines of the unified-diff excerpt
inline constexpr std::size_t kMaxTextDiffBytes = 8192;       // bytes of the excerpt
inline constexpr std::size_t kMaxArchiveMembers = 65536;     // archive members compared per file
inline constexpr std::uint64_t kMaxGzipPayload = std::uint64_t{64} << 20;  // per side

// One tolerated class met in a pair, with where (section names, addresses, fields).
struct ClassHit {
  ToleratedClass tolerated_class = ToleratedClass::kBuildId;
  std::vector<std::string> where;  // at most kMaxWherePerClass, in order found
};

// One real difference: where (an ELF section, "ELF header", "program headers", "text",
// "bytes", ...), the functions it touches (by symbol) and how many bytes differ.
struct Difference {
  std::string where;
  std::vector<std::string> functions;
  std::uint64_t bytes = 0;
  std::string detail;  // e.g. "section only in delivered", "size 1200 vs 1216"
};

// The comparison of one pair.
struct FileComparison {
  Verdict verdict = Verdict::kIdentical;
  std::string kind;                     // "elf", "text", "binary", "gzip", "symlink", ...
  std::vector<ClassHit> classes;        // sorted by class
  std::vector<Difference> differences;  // at most kMaxDifferencesListed
  std::uint64_t differing_bytes = 0;    // all bytes no class explains
  std::string text_diff;                // unified-diff excerpt for text files
  std::string reason;                   // why UNCOMPARABLE
};

// Compares two files' contents. Never fails: damage is UNCOMPARABLE with a reason.
FileComparison CompareContents(ByteView delivered, ByteView rebuilt, const Tolerances& tolerances);

// Compares two ELF objects (either may be malformed; then UNCOMPARABLE).
FileComparison CompareElfPair(ByteView delivered, ByteView rebuilt, const Tolerances& tolerances);

}  // namespace clearbox::equiv
