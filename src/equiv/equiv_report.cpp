// equiv.json and the terminal summary.
#include "equiv/equiv_report.hpp"

#include <nlohmann/json.hpp>

namespace clearbox::equiv {
namespace {

using Json = nlohmann::ordered_json;

Json SideJson(const SideInfo& side) {
  Json out;
  out["input"] = side.input;
  out["kind"] = side.kind;
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

std::array<std::size_t, kVerdictCount> CountVerdicts(const EquivReport& report) {
  std::array<std::size_t, kVerdictCount> counts{};
  for (const auto& file : report.files) ++counts[static_cast<std::size_t>(file.comparison.verdict)];
  return counts;
}

bool IsEquivalent(const EquivReport& report) {
  const auto counts = CountVerdicts(report);
  return counts[static_cast<std::size_t>(Verdict::kIdentical)] +
             counts[static_cast<std::size_t>(Verdict::kEquivalent)] ==
         report.files.size();
}

std::string RenderEquivJson(const EquivReport& report) {
  Json doc;
  doc["schema_version"] = kEquivSchemaVersion;
  doc["verdict"] = IsEquivalent(report) ? "EQUIVALENT" : "NOT_EQUIVALENT";
  doc["delivered"] = SideJson(report.delivered);
  doc["rebuilt"] = SideJson(report.rebuilt);
  Json tolerated = Json::array();
  Json strict = Json::array();
  for (const auto& info : ToleratedClasses()) {
    (report.tolerances.Allows(info.tolerated_class) ? tolerated : strict).push_back(info.name);
  }
  doc["tolerated_classes"] = std::move(tolerated);
  doc["strict_classes"] = std::move(strict);
  const auto counts = CountVerdicts(report);
  Json count_json;
  for (std::size_t v = 0; v < kVerdictCount; ++v) {
    count_json[std::string(VerdictName(static_cast<Verdict>(v)))] = counts[v];
  }
  doc["counts"] = std::move(count_json);
  Json files = Json::array();
  for (const auto& file : report.files) files.push_back(ComparisonJson(file));
  doc["files"] = std::move(files);
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string RenderEquivSummary(const EquivReport& report) {
  const auto counts = CountVerdicts(report);
  std::string out = "equiv: " + std::to_string(report.files.size()) + " paths:";
  for (std::size_t v = 0; v < kVerdictCount; ++v) {
    out += (v == 0 ? " " : ", ") + std::to_string(counts[v]) + " " +
           std::string(VerdictName(static_cast<Verdict>(v)));
  }
  out += "\n";
  std::size_t listed = 0;
  std::size_t unlisted = 0;
  for (const auto& file : report.files) {
    const auto& c = file.comparison;
    if (c.verdict == Verdict::kIdentical || c.verdict == Verdict::kEquivalent) continue;
    if (listed == kMaxSummaryDifferent) {
      ++unlisted;
      continue;
    }
    ++listed;
    out += "  " + std::string(VerdictName(c.verdict)) + " " + file.path;
    if (c.verdict == Verdict::kDifferent) {
      out += ":";
      for (std::size_t i = 0; i < c.differences.size() && i < 4; ++i) {
        out += (i == 0 ? " " : "; ") + DescribeDifference(c.differences[i]);
      }
      if (c.differences.size() > 4) out += "; ...";
    } else if (c.verdict == Verdict::kUncomparable) {
      out += ": " + c.reason;
    }
    out += "\n";
  }
  if (unlisted > 0) out += "  ... and " + std::to_string(unlisted) + " more (see equiv.json)\n";
  out += std::string("verdict: ") + (IsEquivalent(report) ? "EQUIVALENT" : "NOT EQUIVALENT") + "\n";
  return out;
}

}  // namespace clearbox::equiv
