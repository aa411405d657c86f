// SignatureScanner: one multi-pattern pass (vectorscan) over a buffer for every handler's
// magic, reporting candidate chunk starts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/byte_reader.hpp"
#include "core/pattern_set.hpp"
#include "core/result.hpp"
#include "unpack/handler.hpp"

namespace clearbox::unpack {

// A place where some handler's chunk may start.
struct Candidate {
  std::uint64_t start = 0;          // chunk start within the scanned buffer
  std::uint32_t handler_index = 0;  // index into the handler list given to the scanner
};

class SignatureScanner {
 public:
  // Compiles all signatures of `handlers` into one database; fails if vectorscan refuses.
  static Result<std::unique_ptr<SignatureScanner>> Build(std::span<const Handler* const> handlers);
  ~SignatureScanner();

  // Candidates whose magic lies in data[from, to) (magic may run past `to`), sorted by start
  // then handler index. At most `max_candidates`; `*stopped_at` receives the magic position
  // where collection stopped when the cap was hit (else `to`).
  Result<std::vector<Candidate>> Scan(ByteView data, std::uint64_t from, std::uint64_t to,
                                      std::size_t max_candidates, std::uint64_t* stopped_at) const;

  std::uint32_t max_signature_offset() const { return max_offset_; }

 private:
  SignatureScanner() = default;
  struct Pattern {
    std::uint32_t handler_index;
    std::uint32_t offset;
    std::uint32_t length;
  };
  std::optional<PatternSet> set_;  // pattern id = index into patterns_
  std::vector<Pattern> patterns_;
  std::uint32_t max_offset_ = 0;
  std::uint32_t max_length_ = 0;
};

}  // namespace clearbox::unpack
