// The c2sp.org/tlog-witness HTTP API in front of a ledger::Witness: POST /add-checkpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>

#include "ledger/witness.hpp"
#include "portal/http_server.hpp"

namespace clearbox::portal {

// Content type of a 409 answer that carries the witness's current size.
inline constexpr std::string_view kTlogSizeContentType = "text/x.tlog.size";
// Largest add-checkpoint body read: an old line, 63 proof hashes and a checkpoint note with
// up to ledger::kMaxNoteSignatures signature lines fit well within it.
inline constexpr std::size_t kMaxAddCheckpointBodyBytes = 64 << 10;

// Answers POST /add-checkpoint as tlog-witness specifies: 200 with our cosignature line;
// 400 malformed body or old size above the checkpoint's; 403 not signed by a trusted log key;
// 409 (text/x.tlog.size "<size>\n") when old is not the witness's size, or the checkpoint is
// older; 409 same size with another root; 422 the consistency proof fails.
class WitnessService {
 public:
  // `now` gives the cosignature timestamp (POSIX seconds).
  WitnessService(ledger::Witness& witness, std::function<std::uint64_t()> now);

  // The header phase (HttpHeaderCheck): anything but POST /add-checkpoint is answered (404,
  // 405) before a body is read; that body may have at most kMaxAddCheckpointBodyBytes.
  HttpHeaderDecision CheckHeaders(const HttpRequest& request);

  // Answers one request; never throws for bad input.
  HttpResponse Handle(const HttpRequest& request);

 private:
  ledger::Witness& witness_;
  std::function<std::uint64_t()> now_;
};

}  // namespace clearbox::portal
