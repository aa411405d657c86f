#include "inspect/pattern_scanner.hpp"

#include <hs.h>

#include <algorithm>
#include <tuple>

namespace clearbox::inspect {

struct PatternScanner::Impl {
  hs_database_t* database = nullptr;
  ~Impl() {
    if (database) hs_free_database(database);
  }
};

PatternScanner::PatternScanner(PatternScanner&&) noexcept = default;
PatternScanner& PatternScanner::operator=(PatternScanner&&) noexcept = default;
PatternScanner::~PatternScanner() = default;

Result<PatternScanner> PatternScanner::Build(const std::vector<PatternSpec>& specs) {
  if (specs.empty()) return Fail(ErrorCode::kInvalidArgument, "no patterns to compile");
  PatternScanner scanner;
  scanner.impl_ = std::make_unique<Impl>();
  std::vector<const char*> expressions;
  std::vector<unsigned> flags, ids;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    expressions.push_back(specs[i].expression.c_str());
    unsigned f = HS_FLAG_DOTALL | HS_FLAG_SOM_LEFTMOST;
    if (specs[i].caseless) f |= HS_FLAG_CASELESS;
    flags.push_back(f);
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(expressions.size()), HS_MODE_BLOCK, nullptr,
                       &scanner.impl_->database, &error) != HS_SUCCESS) {
    std::string message = error ? error->message : "unknown error";
    if (error && error->expression >= 0 &&
        static_cast<std::size_t>(error->expression) < specs.size()) {
      message += " in pattern " + specs[static_cast<std::size_t>(error->expression)].expression;
    }
    hs_free_compile_error(error);
    return Fail(ErrorCode::kInvalidArgument, "vectorscan compile failed: " + message);
  }
  return scanner;
}

Result<std::vector<PatternMatch>> PatternScanner::Scan(ByteView data,
                                                       std::size_t max_matches) const {
  std::vector<PatternMatch> raw;
  const std::uint64_t size = std::min<std::uint64_t>(data.size(), kMaxScanBytes);
  if (size == 0) return raw;
  struct ScratchHolder {
    hs_scratch_t* scratch = nullptr;
    ~ScratchHolder() {
      if (scratch) hs_free_scratch(scratch);
    }
  };
  thread_local ScratchHolder holder;
  if (hs_alloc_scratch(impl_->database, &holder.scratch) != HS_SUCCESS) {
    return Fail(ErrorCode::kInternal, "vectorscan scratch allocation failed");
  }
  auto on_match = [](unsigned id, unsigned long long from, unsigned long long to, unsigned,
                     void* user) -> int {
    auto* out = static_cast<std::vector<PatternMatch>*>(user);
    if (out->size() >= kMaxRawMatches) return 1;
    // Consecutive reports for one (id, start) only extend the end.
    if (!out->empty() && out->back().id == id && out->back().start == from) {
      out->back().end = std::max<std::uint64_t>(out->back().end, to);
      return 0;
    }
    out->push_back({id, from, to});
    return 0;
  };
  const hs_error_t rc = hs_scan(impl_->database, reinterpret_cast<const char*>(data.data()),
                                static_cast<unsigned>(size), 0, holder.scratch, on_match, &raw);
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) {
    return Fail(ErrorCode::kInternal, "vectorscan scan failed");
  }
  std::sort(raw.begin(), raw.end(), [](const PatternMatch& a, const PatternMatch& b) {
    return std::tie(a.start, a.id, b.end) < std::tie(b.start, b.id, a.end);
  });
  std::vector<PatternMatch> out;
  for (const PatternMatch& m : raw) {
    if (!out.empty() && out.back().id == m.id && out.back().start == m.start) continue;
    if (out.size() >= max_matches) break;
    out.push_back(m);
  }
  return out;
}

}  // namespace clearbox::inspect
