#include "unpack/signature_scanner.hpp"

#include <algorithm>
#include <string>
#include <tuple>

namespace clearbox::unpack {

SignatureScanner::~SignatureScanner() = default;

Result<std::unique_ptr<SignatureScanner>> SignatureScanner::Build(
    std::span<const Handler* const> handlers) {
  std::unique_ptr<SignatureScanner> scanner(new SignatureScanner());
  std::vector<std::string_view> magics;
  std::vector<std::string> names;  // how compile errors name each signature
  for (std::uint32_t h = 0; h < handlers.size(); ++h) {
    const std::span<const Signature> signatures = handlers[h]->Signatures();
    for (std::size_t k = 0; k < signatures.size(); ++k) {
      const Signature& sig = signatures[k];
      if (sig.magic.empty()) continue;
      scanner->patterns_.push_back({h, sig.offset, static_cast<std::uint32_t>(sig.magic.size())});
      scanner->max_offset_ = std::max(scanner->max_offset_, sig.offset);
      scanner->max_length_ =
          std::max(scanner->max_length_, static_cast<std::uint32_t>(sig.magic.size()));
      magics.push_back(sig.magic);
      names.push_back(std::string(handlers[h]->Name()) + " signature " + std::to_string(k));
    }
  }
  if (magics.empty()) return Fail(ErrorCode::kInternal, "no signatures registered");
  std::vector<LiteralPattern> literals;
  for (std::size_t id = 0; id < magics.size(); ++id) {
    literals.push_back(
        {.bytes = magics[id], .id = static_cast<std::uint32_t>(id), .name = names[id]});
  }
  auto set = PatternSet::CompileLiterals(literals);
  if (!set) return Fail(ErrorCode::kInternal, set.error().message);
  scanner->set_.emplace(std::move(*set));
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
  bool capped = false;
  std::uint64_t capped_at = to;
  std::uint64_t base = from;    // where the current slice starts
  std::uint64_t slice_to = to;  // magic starting at or past this belongs to the next slice
  auto on_match = [&](std::uint32_t id, std::uint64_t, std::uint64_t end) {
    const Pattern& p = patterns_[id];
    const std::uint64_t magic_pos = base + end - p.length;
    if (magic_pos >= slice_to) return ScanControl::kContinue;
    if (magic_pos < p.offset) return ScanControl::kContinue;  // chunk would start before buffer
    if (out.size() >= max_candidates) {
      capped = true;
      capped_at = magic_pos;
      return ScanControl::kStop;
    }
    out.push_back({magic_pos - p.offset, p.handler_index});
    return ScanControl::kContinue;
  };
  // vectorscan takes 32-bit lengths: scan in slices that overlap by the longest magic.
  constexpr std::uint64_t kSlice = 1ULL << 30;
  std::uint64_t pos = from;
  while (pos < scan_end && !capped) {
    const std::uint64_t end = std::min(scan_end, pos + kSlice + max_length_);
    base = pos;
    slice_to = std::min(to, pos + kSlice);
    auto scanned = set_->Scan(data.subspan(pos, end - pos), on_match);
    if (!scanned) return Forward(scanned);
    pos += kSlice;
  }
  if (stopped_at) *stopped_at = capped ? capped_at : to;
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
