// tlog-witness over HTTP: the status codes of c2sp.org/tlog-witness mapped from the
// witness's outcomes; the response body is only our cosignature line.
#include "portal/witness_routes.hpp"

#include "ledger/checkpoint.hpp"
#include "ledger/note.hpp"

namespace clearbox::portal {
namespace {

HttpResponse Text(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}

}  // namespace

WitnessService::WitnessService(ledger::Witness& witness, std::function<std::uint64_t()> now)
    : witness_(witness), now_(std::move(now)) {}

HttpHeaderDecision WitnessService::CheckHeaders(const HttpRequest& request) {
  if (request.path != "/add-checkpoint" || request.method != "POST") {
    return HttpHeaderDecision{Handle(request), 0};
  }
  return HttpHeaderDecision{std::nullopt, kMaxAddCheckpointBodyBytes};
}

HttpResponse WitnessService::Handle(const HttpRequest& request) {
  if (request.path != "/add-checkpoint") return Text(404, "not found\n");
  if (request.method != "POST") {
    auto r = Text(405, "use POST\n");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  auto body = ledger::ParseAddCheckpointRequest(request.body);
  if (!body) return Text(400, "malformed request: " + body.error().message + "\n");
  auto note = ledger::ParseNote(body->signed_checkpoint);
  auto cp = note ? ledger::ParseCheckpoint(note->text) : Result<ledger::Checkpoint>(Forward(note));
  if (!cp) return Text(400, "not a checkpoint\n");
  if (body->old_size > cp->size) return Text(400, "old size above the checkpoint size\n");
  auto result = witness_.Cosign(body->signed_checkpoint, body->old_size, body->proof, now_());
  if (!result) return Text(500, "witness state unavailable\n");
  switch (result->outcome) {
    case ledger::WitnessOutcome::kCosigned: break;
    case ledger::WitnessOutcome::kInvalidCheckpoint: return Text(403, result->message + "\n");
    case ledger::WitnessOutcome::kConflict:
      return HttpResponse{
          409, std::string(kTlogSizeContentType), std::to_string(result->witness_size) + "\n", {}};
    case ledger::WitnessOutcome::kFork:
      return Text(result->bad_proof ? 422 : 409, result->message + "\n");
  }
  // Our line is the last one of the cosigned note (CosignNote appends it).
  const std::string& cosigned = result->cosigned_checkpoint;
  const auto start = cosigned.rfind('\n', cosigned.size() - 2);
  return Text(200, cosigned.substr(start + 1));
}

}  // namespace clearbox::portal
