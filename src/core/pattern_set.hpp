// PatternSet: many regular expressions or literals compiled into one vectorscan database and
// matched over a buffer in one pass; the only place that talks to vectorscan (<hs.h>).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/byte_reader.hpp"
#include "core/result.hpp"

namespace clearbox {

// One regular expression (vectorscan's PCRE subset) and how to compile it.
struct RegexPattern {
  std::string_view expression{};  // must not contain NUL
  std::uint32_t id = 0;           // reported with each match; need not be unique
  bool caseless = false;          // letters match either case
  bool dot_all = false;           // '.' also matches '\n'
  bool single_match = false;      // report at most one match of this pattern per scan
  bool leftmost_start = false;    // report match starts (the leftmost); slower scans
  std::string_view name{};        // how compile errors name the pattern; empty: "pattern id N"
};

// One literal byte string (may contain NUL bytes) and how to compile it.
struct LiteralPattern {
  std::string_view bytes{};     // not empty; vectorscan 5.4 also refuses a leading NUL byte
  std::uint32_t id = 0;         // reported with each match; need not be unique
  bool caseless = false;        // ASCII letters match either case
  bool single_match = false;    // report at most one match of this pattern per scan
  bool leftmost_start = false;  // report match starts; for a literal, end - length anyway
  std::string_view name{};      // how compile errors name the pattern; empty: "pattern id N"
};

// What a match callback asks of the scan.
enum class ScanControl : std::uint8_t { kContinue, kStop };

// How a scan ended: every match reported, or a callback asked to stop.
enum class ScanOutcome : std::uint8_t { kCompleted, kStopped };

// A non-owning reference to a callable `ScanControl(std::uint32_t id, std::uint64_t from,
// std::uint64_t to)`; the callable must outlive the Scan call it is passed to.
class MatchCallback {
 public:
  // Refers to `callable` (not copied).
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, MatchCallback> &&
           std::is_invocable_r_v<ScanControl, F&, std::uint32_t, std::uint64_t, std::uint64_t>)
      MatchCallback(F&& callable)  // NOLINT(google-explicit-constructor): used as an argument
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(callable)))),
        call_([](void* object, std::uint32_t id, std::uint64_t from, std::uint64_t to) {
          return (*static_cast<std::remove_reference_t<F>*>(object))(id, from, to);
        }) {}

  // Calls the referenced callable.
  ScanControl operator()(std::uint32_t id, std::uint64_t from, std::uint64_t to) const {
    return call_(object_, id, from, to);
  }

 private:
  void* object_;
  ScanControl (*call_)(void*, std::uint32_t, std::uint64_t, std::uint64_t);
};

// A compiled block-mode vectorscan database; immutable after compilation, so one PatternSet
// may be scanned from many threads at once (each thread uses its own scratch space).
class PatternSet {
 public:
  // Compiles `patterns` into one database; fails (kInvalidArgument) on an empty list or an
  // expression vectorscan refuses, with a message naming that pattern. A database compiled
  // before from the same patterns with the same vectorscan is reloaded from the build cache
  // (core/build_cache.hpp) instead: compiling a few hundred signatures takes most of a second.
  static Result<PatternSet> CompileRegexes(std::span<const RegexPattern> patterns);
  // Compiles `patterns` into one literal database; fails (kInvalidArgument) like
  // CompileRegexes, e.g. on an empty list or an empty literal.
  static Result<PatternSet> CompileLiterals(std::span<const LiteralPattern> patterns);

  PatternSet(PatternSet&&) noexcept;
  PatternSet& operator=(PatternSet&&) noexcept;
  ~PatternSet();

  // Reports every match in `data` to `on_match` as (id, from, to) with offsets into `data`
  // (`from` is 0 unless the pattern asked for leftmost_start), in vectorscan's order (by
  // end). Stops when the callback returns kStop. Fails (kInvalidArgument) if `data` is 4 GiB
  // or more (callers scan larger buffers in slices) and (kInternal) if vectorscan fails.
  // Thread-safe; a callback may itself scan (with any PatternSet). An exception thrown by the
  // callback stops the scan and propagates to the caller.
  Result<ScanOutcome> Scan(ByteView data, MatchCallback on_match) const;

  // The largest buffer Scan accepts, in bytes.
  static constexpr std::uint64_t kMaxBytesPerScan = 0xffffffffULL;

 private:
  PatternSet() = default;
  struct Database;
  std::unique_ptr<Database> database_;
};

}  // namespace clearbox
