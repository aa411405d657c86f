#include "unpack/signature_scanner.hpp"

#include <hs.h>

#include <algorithm>
#include <string>
#include <tuple>

namespace clearbox::unpack {

struct SignatureScanner::Impl {
  hs_database_t* database = nullptr;
  ~Impl() {
    if (database) hs_free_database(database);
  }
};

SignatureScanner::~SignatureScanner() = default;

Result<std::unique_ptr<SignatureScanner>> SignatureScanner::Build(
    std::span<const Handler* const> handlers) {
  std::unique_ptr<SignatureScanner> scanner(new SignatureScanner());
  scanner->impl_ = std::make_unique<Impl>();
  std::vector<const char*> literals;
  std::vector<unsigned> flags, ids;
  std::vector<std::size_t> lengths;
  for (std::uint32_t h = 0; h < handlers.size(); ++h) {
    for (const Signature& sig : handlers[h]->Signatures()) {
      if (sig.magic.empty()) continue;
      const auto id = static_cast<unsigned>(scanner->patterns_.size());
      scanner->patterns_.push_back({h, sig.offset, static_cast<std::uint32_t>(sig.magic.size())});
      scanner->max_offset_ = std::max(scanner->max_offset_, sig.offset);
      scanner->max_length_ =
          std::max(scanner->max_length_, static_cast<std::uint32_t>(sig.magic.size()));
      literals.push_back(sig.magic.data());
      lengths.push_back(sig.magic.size());
      flags.push_back(0);
      ids.push_back(id);
    }
  }
  if (literals.empty()) return Fail(ErrorCode::kInternal, "no signatures registered");
  hs_compile_error_t* compile_error = nullptr;
  if (hs_compile_lit_multi(literals.data(), flags.data(), ids.data(), lengths.data(),
                           static_cast<unsigned>(literals.size()), HS_MODE_BLOCK, nullptr,
                           &scanner->impl_->database, &compile_error) != HS_SUCCESS) {
    std::string message = compile_error ? compile_error->message : "unknown error";
    hs_free_compile_error(compile_error);
    return Fail(ErrorCode::kInternal, "vectorscan compile failed: " + message);
  }
  return scanner;
}

Result<std::vector<Candidate>> SignatureScanner::Scan(ByteView data, std::uint64_t from,
                                                      std::uint64_t to, std::size_t max_candidates,
                                                      std::uint64_t* stopped_at) const {
  std::vector<Candidate> out;
  to = std::min<std::uint64_t>(to, data.size());
  if (stopped_at) *stopped_at = to;
  if (from >= to) return out;
  // Scan far enough past `to` for a magic that starts before `to` to be seen whole.
  const std::uint64_t scan_end = std::min<std::uint64_t>(data.size(), to + max_length_);
  // One scratch space per thread, grown for whichever database it meets, freed at exit.
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
  struct Ctx {
    const SignatureScanner* self;
    std::uint64_t base, to;
    std::size_t max_candidates;
    std::vector<Candidate>* out;
    std::uint64_t stopped_at;
    bool capped;
  } ctx{this, from, to, max_candidates, &out, to, false};
  auto on_match = [](unsigned id, unsigned long long, unsigned long long end, unsigned,
                     void* user) -> int {
    auto* c = static_cast<Ctx*>(user);
    const Pattern& p = c->self->patterns_[id];
    const std::uint64_t magic_pos = c->base + end - p.length;
    if (magic_pos >= c->to) return 0;
    if (magic_pos < p.offset) return 0;  // the chunk would start before the buffer
    if (c->out->size() >= c->max_candidates) {
      c->capped = true;
      c->stopped_at = magic_pos;
      return 1;  // stop scanning
    }
    c->out->push_back({magic_pos - p.offset, p.handler_index});
    return 0;
  };
  // vectorscan takes 32-bit lengths: scan in slices that overlap by the longest magic.
  constexpr std::uint64_t kSlice = 1ULL << 30;
  std::uint64_t pos = from;
  while (pos < scan_end && !ctx.capped) {
    const std::uint64_t end = std::min(scan_end, pos + kSlice + max_length_);
    ctx.base = pos;
    ctx.to = std::min(to, pos + kSlice);
    const hs_error_t rc =
        hs_scan(impl_->database, reinterpret_cast<const char*>(data.data() + pos),
                static_cast<unsigned>(end - pos), 0, holder.scratch, on_match, &ctx);
    if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED) {
      return Fail(ErrorCode::kInternal, "vectorscan scan failed");
    }
    pos += kSlice;
  }
  if (stopped_at) *stopped_at = ctx.capped ? ctx.stopped_at : to;
  std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.start, a.handler_index) < std::tie(b.start, b.handler_index);
  });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Candidate& a, const Candidate& b) {
                          return a.start == b.start && a.handler_index == b.handler_index;
                        }),
            out.end());
  return out;
}

}  // namespace clearbox::unpack
