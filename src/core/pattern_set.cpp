#include "core/pattern_set.hpp"

#include <hs.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <vector>

#include "core/build_cache.hpp"
#include "core/hashing.hpp"

namespace clearbox {

// Owns the compiled database.
struct PatternSet::Database {
  hs_database_t* handle = nullptr;
  // Unique for the process's life (unlike the handle's address, which a later database may
  // reuse): how a thread's scratch remembers which databases it already fits.
  std::uint64_t serial = NextSerial();
  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() {
    if (handle) hs_free_database(handle);
  }

 private:
  static std::uint64_t NextSerial() {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }
};

namespace {

// Owns one vectorscan scratch space, grown (hs_alloc_scratch) for each database it serves.
// A space only ever grows, so once it fits a database it fits it for good: the last few
// databases fitted are remembered, because hs_alloc_scratch costs time that grows with the
// database (about 40 us per call for the unpacker's ~150 signatures, more than scanning a
// small file takes).
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    if (space_) hs_free_scratch(space_);
  }

  // Makes the space big enough for `database` (known by its unique `serial`); false if
  // vectorscan cannot allocate it.
  bool FitTo(const hs_database_t* database, std::uint64_t serial) {
    if (space_ && std::find(fitted_.begin(), fitted_.end(), serial) != fitted_.end()) return true;
    if (hs_alloc_scratch(database, &space_) != HS_SUCCESS) return false;
    fitted_[next_fitted_++ % fitted_.size()] = serial;
    return true;
  }
  hs_scratch_t* get() const { return space_; }

  bool in_use = false;  // a scan on this thread is running with it

 private:
  hs_scratch_t* space_ = nullptr;
  std::array<std::uint64_t, 8> fitted_{};  // serials of databases the space fits (0: none)
  std::size_t next_fitted_ = 0;
};

// Marks the thread's scratch busy for one scan.
class ScratchLease {
 public:
  explicit ScratchLease(Scratch& scratch) : scratch_(scratch) { scratch_.in_use = true; }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  ~ScratchLease() { scratch_.in_use = false; }

 private:
  Scratch& scratch_;
};

unsigned Flags(bool caseless, bool dot_all, bool single_match, bool leftmost_start) {
  unsigned flags = 0;
  if (caseless) flags |= HS_FLAG_CASELESS;
  if (dot_all) flags |= HS_FLAG_DOTALL;
  if (single_match) flags |= HS_FLAG_SINGLEMATCH;
  if (leftmost_start) flags |= HS_FLAG_SOM_LEFTMOST;
  return flags;
}

// "<name>" or "pattern id <id>".
template <class Pattern>
std::string PatternName(const Pattern& pattern) {
  if (!pattern.name.empty()) return std::string(pattern.name);
  return "pattern id " + std::to_string(pattern.id);
}

// The compile error as an Error naming the offending pattern; frees `error`.
template <class Pattern>
Unexpected CompileFailure(hs_compile_error_t* error, std::span<const Pattern> patterns) {
  std::string message = error && error->message ? error->message : "unknown error";
  if (error && error->expression >= 0 &&
      static_cast<std::size_t>(error->expression) < patterns.size()) {
    message += " in " + PatternName(patterns[static_cast<std::size_t>(error->expression)]);
  }
  hs_free_compile_error(error);
  return Fail(ErrorCode::kInvalidArgument, "vectorscan compile failed: " + message);
}

// State handed through vectorscan to the match trampoline.
struct ScanContext {
  MatchCallback* on_match;
  std::exception_ptr thrown;
};

int OnMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned /*flags*/,
            void* user) {
  auto* context = static_cast<ScanContext*>(user);
  try {
    return (*context->on_match)(id, from, to) == ScanControl::kStop ? 1 : 0;
  } catch (...) {  // never unwind through vectorscan's C frames
    context->thrown = std::current_exception();
    return 1;
  }
}

// The cache key of a database: a digest of the vectorscan version and everything compiled
// (each pattern's bytes, flags and id, length-prefixed so no two lists share a key).
class CacheKey {
 public:
  explicit CacheKey(std::string_view kind) {
    Add(kind);
    Add(hs_version());
  }
  void Add(std::string_view bytes) {
    text_ += std::to_string(bytes.size()) + ":";
    text_.append(bytes);
  }
  void Add(unsigned flags, unsigned id) {
    text_ += std::to_string(flags) + "/" + std::to_string(id) + ";";
  }
  std::string Digest() const {
    return Sha256Hex(ByteView(reinterpret_cast<const std::uint8_t*>(text_.data()), text_.size()));
  }

 private:
  std::string text_;
};

// The database cached under `key`, or null when there is none this host can load.
hs_database_t* LoadCachedDatabase(const std::string& key) {
  const auto bytes = ReadCacheEntry("hsdb", key);
  if (!bytes) return nullptr;
  hs_database_t* database = nullptr;
  if (hs_deserialize_database(bytes->data(), bytes->size(), &database) != HS_SUCCESS)
    return nullptr;
  return database;
}

// Stores `database` under `key` (best effort: a failure only means compiling next time).
void StoreDatabase(const std::string& key, const hs_database_t* database) {
  char* bytes = nullptr;
  std::size_t length = 0;
  if (hs_serialize_database(database, &bytes, &length) != HS_SUCCESS) return;
  WriteCacheEntry("hsdb", key, std::string_view(bytes, length));
  std::free(bytes);  // vectorscan allocates with the default misc allocator (malloc)
}

// The database cached under `digest`, else the one `compile` (a vectorscan compile call taking
// the database and error out-parameters) builds, which is then cached; a compile error names
// its pattern.
template <class Pattern, class Compile>
Result<hs_database_t*> CachedOrCompiled(const std::string& digest,
                                        std::span<const Pattern> patterns, Compile compile) {
  if (hs_database_t* cached = LoadCachedDatabase(digest)) return cached;
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  if (compile(&database, &error) != HS_SUCCESS) return CompileFailure(error, patterns);
  StoreDatabase(digest, database);
  return database;
}

}  // namespace

PatternSet::PatternSet(PatternSet&&) noexcept = default;
PatternSet& PatternSet::operator=(PatternSet&&) noexcept = default;
PatternSet::~PatternSet() = default;

Result<PatternSet> PatternSet::CompileRegexes(std::span<const RegexPattern> patterns) {
  if (patterns.empty()) return Fail(ErrorCode::kInvalidArgument, "no patterns to compile");
  std::vector<std::string> expressions;  // NUL-terminated copies
  std::vector<const char*> pointers;
  std::vector<unsigned> flags, ids;
  expressions.reserve(patterns.size());
  for (const RegexPattern& pattern : patterns) {
    if (pattern.expression.find('\0') != std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "vectorscan compile failed: NUL byte in " + PatternName(pattern));
    }
    expressions.emplace_back(pattern.expression);
    flags.push_back(
        Flags(pattern.caseless, pattern.dot_all, pattern.single_match, pattern.leftmost_start));
    ids.push_back(pattern.id);
  }
  CacheKey key("regex");
  for (std::size_t i = 0; i < expressions.size(); ++i) {
    pointers.push_back(expressions[i].c_str());
    key.Add(expressions[i]);
    key.Add(flags[i], ids[i]);
  }
  auto handle = CachedOrCompiled(
      key.Digest(), patterns, [&](hs_database_t** database, hs_compile_error_t** error) {
        return hs_compile_multi(pointers.data(), flags.data(), ids.data(),
                                static_cast<unsigned>(pointers.size()), HS_MODE_BLOCK, nullptr,
                                database, error);
      });
  if (!handle) return Forward(handle);
  PatternSet set;
  set.database_ = std::make_unique<Database>();
  set.database_->handle = *handle;
  return set;
}

Result<PatternSet> PatternSet::CompileLiterals(std::span<const LiteralPattern> patterns) {
  if (patterns.empty()) return Fail(ErrorCode::kInvalidArgument, "no patterns to compile");
  std::vector<const char*> literals;
  std::vector<std::size_t> lengths;
  std::vector<unsigned> flags, ids;
  for (const LiteralPattern& pattern : patterns) {
    if (pattern.bytes.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "vectorscan compile failed: empty literal in " + PatternName(pattern));
    }
    literals.push_back(pattern.bytes.data());
    lengths.push_back(pattern.bytes.size());
    flags.push_back(Flags(pattern.caseless, false, pattern.single_match, pattern.leftmost_start));
    ids.push_back(pattern.id);
  }
  CacheKey key("literal");
  for (std::size_t i = 0; i < literals.size(); ++i) {
    key.Add(std::string_view(literals[i], lengths[i]));
    key.Add(flags[i], ids[i]);
  }
  auto handle = CachedOrCompiled(
      key.Digest(), patterns, [&](hs_database_t** database, hs_compile_error_t** error) {
        return hs_compile_lit_multi(literals.data(), flags.data(), ids.data(), lengths.data(),
                                    static_cast<unsigned>(literals.size()), HS_MODE_BLOCK, nullptr,
                                    database, error);
      });
  if (!handle) return Forward(handle);
  PatternSet set;
  set.database_ = std::make_unique<Database>();
  set.database_->handle = *handle;
  return set;
}

Result<ScanOutcome> PatternSet::Scan(ByteView data, MatchCallback on_match) const {
  if (!database_) return Fail(ErrorCode::kInvalidArgument, "scan with a moved-from PatternSet");
  if (data.size() > kMaxBytesPerScan) {
    return Fail(ErrorCode::kInvalidArgument, "vectorscan scan of " + std::to_string(data.size()) +
                                                 " bytes (at most " +
                                                 std::to_string(kMaxBytesPerScan) + " at once)");
  }
  // One scratch space per thread, freed at thread exit; a scan started from inside a match
  // callback (the thread's space is busy) gets a space of its own for that call.
  thread_local Scratch thread_scratch;
  Scratch call_scratch;
  Scratch& scratch = thread_scratch.in_use ? call_scratch : thread_scratch;
  if (!scratch.FitTo(database_->handle, database_->serial)) {
    return Fail(ErrorCode::kInternal, "vectorscan scratch allocation failed");
  }
  ScratchLease lease(scratch);
  ScanContext context{&on_match, nullptr};
  // vectorscan rejects a null pointer even for an empty buffer.
  static const char kEmpty = 0;
  const char* bytes = data.empty() ? &kEmpty : reinterpret_cast<const char*>(data.data());
  const hs_error_t rc = hs_scan(database_->handle, bytes, static_cast<unsigned>(data.size()), 0,
                                scratch.get(), OnMatch, &context);
  if (context.thrown) std::rethrow_exception(context.thrown);
  if (rc == HS_SCAN_TERMINATED) return ScanOutcome::kStopped;
  if (rc != HS_SUCCESS) {
    return Fail(ErrorCode::kInternal, "vectorscan scan failed (error " + std::to_string(rc) + ")");
  }
  return ScanOutcome::kCompleted;
}

}  // namespace clearbox
