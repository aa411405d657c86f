// equiv.json and the terminal summary.
#include "equiv/equiv_report.hpp"

#include <nlohmann/json.hpp>
#include <sstream>

namespace clearbox::equiv {
namespace {

using Json = nlohmann::ordered_json;

Json SideJson(const SideInfo& side) {
  Json out;
  out["input"] = side.input;
  out["kind"] = side.kind;
  if (!side.sha256.empty()) out["sha256"] = side.sha256;
  if (!side.tree_sha256.empty()) out["tree_sha256"] = side.tree_sha256;
  if (!side.digest_error.empty()) out["digest_error"] = side.digest_error;
  if (!side.unpacked_to.empty()) {
    out["unpacked_to"] = side.unpacked_to;
    out["unpack_problems"] = side.unpack_problems;
  }
  return out;
}

Json ComparisonJson(const PathResult& result) {
  const FileComparison& c = result.comparison;
  Json out;
  out["path"] = result.path;
  out["verdict"] = VerdictName(c.verdict);
  out["kind"] = c.kind;
  if (!c.classes.empty()) {
    Json classes = Json::array();
    for (const auto& hit : c.classes) {
      classes.push_back({{"class", ToleratedClassName(hit.tolerated_class)}, {"where", hit.where}});
    }
    out["classes"] = std::move(classes);
  }
  if (!c.differences.empty()) {
    Json differences = Json::array();
    for (const auto& d : c.differences) {
      Json entry;
      entry["where"] = d.where;
      entry["bytes"] = d.bytes;
      if (!d.functions.empty()) entry["functions"] = d.functions;
      if (!d.detail.empty()) entry["detail"] = d.detail;
      differences.push_back(std::move(entry));
    }
    out["differences"] = std::move(differences);
    out["differing_bytes"] = c.differing_bytes;
  }
  if (!c.text_diff.empty()) out["text_diff"] = c.text_diff;
  if (!c.reason.empty()) out["reason"] = c.reason;
  return out;
}

// "where (N bytes; functions f, g)" for one difference.
std::string DescribeDifference(const Difference& d) {
  std::string out = d.where + " (" + std::to_string(d.bytes) + " bytes";
  if (!d.functions.empty()) {
    out += d.functions.size() == 1 ? "; function " : "; functions ";
    for (std::size_t i = 0; i < d.functions.size(); ++i) {
      if (i > 0) out += ", ";
      out += d.functions[i];
    }
  }
  if (!d.detail.empty()) out += "; " + d.detail;
  return out + ")";
}

}  // namespace

EquivWriter::EquivWriter(std::ostream& out, const EquivHeader& header) : out_(out) {
  Json doc;
  doc["schema_version"] = kEquivSchemaVersion;
  doc["delivered"] = SideJson(header.delivered);
  doc["rebuilt"] = SideJson(header.rebuilt);
  Json tolerated = Json::array();
  Json strict = Json::array();
  for (const auto& info : ToleratedClasses()) {
    (header.tolerances.Allows(info.tolerated_class) ? tolerated : strict).push_back(info.name);
  }
  doc["tolerated_classes"] = std::move(tolerated);
  doc["strict_classes"] = std::move(strict);
  std::string text = doc.dump(2, ' ', false, Json::error_handler_t::replace);
  text.resize(text.size() - 2);  // drop "\n}": the files follow
  out_ << text << ",\n  \"files\": [";
}

void EquivWriter::Add(const PathResult& result) {
  const std::string entry =
      ComparisonJson(result).dump(2, ' ', false, Json::error_handler_t::replace);
  out_ << (paths_ == 0 ? "\n    " : ",\n    ");
  for (const char c : entry) {
    out_ << c;
    if (c == '\n') out_ << "    ";
  }
  ++paths_;
  const auto& c = result.comparison;
  ++counts_[static_cast<std::size_t>(c.verdict)];
  if (c.verdict == Verdict::kIdentical || c.verdict == Verdict::kEquivalent) return;
  if (failing_lines_.size() == kMaxSummaryDifferent) {
    ++failing_unlisted_;
    return;
  }
  std::string line = "  " + std::string(VerdictName(c.verdict)) + " " + result.path;
  if (c.verdict == Verdict::kDifferent) {
    line += ":";
    for (std::size_t i = 0; i < c.differences.size() && i < 4; ++i) {
      line += (i == 0 ? " " : "; ") + DescribeDifference(c.differences[i]);
    }
    if (c.differences.size() > 4) line += "; ...";
  } else if (c.verdict == Verdict::kUncomparable) {
    line += ": " + c.reason;
  }
  failing_lines_.push_back(std::move(line));
}

void EquivWriter::Finish() {
  if (finished_) return;
  finished_ = true;
  Json tail;
  Json count_json;
  for (std::size_t v = 0; v < kVerdictCount; ++v) {
    count_json[std::string(VerdictName(static_cast<Verdict>(v)))] = counts_[v];
  }
  tail["counts"] = std::move(count_json);
  tail["verdict"] = IsEquivalent() ? "EQUIVALENT" : "NOT_EQUIVALENT";
  const std::string text = tail.dump(2, ' ', false, Json::error_handler_t::replace);
  out_ << (paths_ == 0 ? "]," : "\n  ],") << text.substr(1) << "\n";
}

bool EquivWriter::IsEquivalent() const {
  return counts_[static_cast<std::size_t>(Verdict::kIdentical)] +
             counts_[static_cast<std::size_t>(Verdict::kEquivalent)] ==
         paths_;
}

std::string EquivWriter::Summary() const {
  std::string out = "equiv: " + std::to_string(paths_) + " paths:";
  for (std::size_t v = 0; v < kVerdictCount; ++v) {
    out += (v == 0 ? " " : ", ") + std::to_string(counts_[v]) + " " +
           std::string(VerdictName(static_cast<Verdict>(v)));
  }
  out += "\n";
  for (const auto& line : failing_lines_) out += line + "\n";
  if (failing_unlisted_ > 0) {
    out += "  ... and " + std::to_string(failing_unlisted_) + " more (see equiv.json)\n";
  }
  out += std::string("verdict: ") + (IsEquivalent() ? "EQUIVALENT" : "NOT EQUIVALENT") + "\n";
  return out;
}

std::string RenderEquivJson(const EquivReport& report) {
  std::ostringstream out;
  EquivWriter writer(out, report.header);
  for (const auto& file : report.files) writer.Add(file);
  writer.Finish();
  return out.str();
}

}  // namespace clearbox::equiv
