// RFC 6962 / RFC 9162 Merkle tree hashing, tree roots, inclusion and consistency proofs.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace clearbox::ledger {

// One SHA-256 node or leaf hash.
using Hash = std::array<std::uint8_t, 32>;

// SHA-256 of arbitrary bytes.
Hash Sha256Of(std::string_view bytes);

// RFC 6962 leaf hash: SHA-256(0x00 || entry).
Hash HashLeaf(std::string_view entry);

// RFC 6962 interior node hash: SHA-256(0x01 || left || right).
Hash HashChildren(const Hash& left, const Hash& right);

// Root of the empty tree: SHA-256("").
Hash EmptyRoot();

// Hash of the perfect subtree of 2^height leaves starting at leaf index << height.
using PerfectHashSource = std::function<Result<Hash>(unsigned height, std::uint64_t index)>;

// MTH of leaves [begin, end) (RFC 9162 §2.1.1); begin must be a subtree boundary as in the
// RFC's recursion. Errors only come from `source`.
[[nodiscard]] Result<Hash> SubtreeHash(std::uint64_t begin, std::uint64_t end,
                                       const PerfectHashSource& source);

// Inclusion proof (audit path, leaf sibling first) of leaf `index` in a tree of `size`.
[[nodiscard]] Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size,
                                                       const PerfectHashSource& source);

// Consistency proof from `old_size` to `new_size` (RFC 9162 §2.1.4.1); 0 < old <= new.
[[nodiscard]] Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size,
                                                         std::uint64_t new_size,
                                                         const PerfectHashSource& source);

// Checks an inclusion proof (RFC 9162 §2.1.3.2); kMalformed if it does not hold.
[[nodiscard]] Result<void> VerifyInclusion(std::uint64_t index, std::uint64_t size,
                                           std::span<const std::uint8_t> leaf_hash,
                                           std::span<const Hash> proof, const Hash& root);

// Checks a consistency proof (RFC 9162 §2.1.4.2); kMalformed if it does not hold. As in
// transparency-dev/merkle, old_size = 0 is always an error.
[[nodiscard]] Result<void> VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size,
                                             std::span<const Hash> proof,
                                             std::span<const std::uint8_t> old_root,
                                             std::span<const std::uint8_t> new_root);

// An in-memory tree over leaf hashes, for tests and small logs.
class MemoryTree {
 public:
  // Appends one entry (hashing it as a leaf).
  void AppendEntry(std::string_view entry) { leaves_.push_back(HashLeaf(entry)); }
  void AppendLeafHash(const Hash& leaf) { leaves_.push_back(leaf); }
  std::uint64_t Size() const { return leaves_.size(); }
  // A PerfectHashSource over this tree's leaves (valid while the tree lives).
  PerfectHashSource Source() const;
  // Root of the first `size` leaves.
  Hash Root(std::uint64_t size) const;

 private:
  std::vector<Hash> leaves_;
};

}  // namespace clearbox::ledger
