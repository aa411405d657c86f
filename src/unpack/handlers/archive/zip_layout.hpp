// Where a zip chunk ends, shared by the zip handler and zip variants with another first
// local-header magic (Dahua's "DH\x03\x04").
#pragma once

#include <cstdint>
#include <string_view>

#include "core/byte_reader.hpp"
#include "core/result.hpp"

namespace clearbox::unpack {

// Where a zip chunk ends.
struct ZipExtent {
  std::uint64_t length = 0;
  bool has_directory = false;  // false: no end record, read local headers only
};

// The extent of the zip at the start of `data`, whose first local header starts with
// `first_magic` (later ones with "PK\x03\x04"); kNotThisFormat for a chance match.
Result<ZipExtent> ZipLength(ByteView data, std::string_view first_magic = "PK\x03\x04");

}  // namespace clearbox::unpack
