// ComparisonRecorder: collects the tolerated classes and the differences met while comparing
// one pair and turns them into a FileComparison (internal to src/equiv).
#pragma once

#include <algorithm>
#include <string>
#include <utility>

#include "equiv/file_compare.hpp"

namespace clearbox::equiv {

class ComparisonRecorder {
 public:
  explicit ComparisonRecorder(const Tolerances& tolerances) : tolerances_(tolerances) {}

  // Records a difference of `tolerated_class` at `where`; false (nothing recorded) when the
  // class is switched off, so the caller records a real difference instead.
  bool Tolerate(ToleratedClass tolerated_class, const std::string& where) {
    if (!tolerances_.Allows(tolerated_class)) return false;
    auto it = std::find_if(hits_.begin(), hits_.end(), [&](const ClassHit& hit) {
      return hit.tolerated_class == tolerated_class;
    });
    if (it == hits_.end()) {
      hits_.push_back({tolerated_class, {}});
      it = hits_.end() - 1;
    }
    if (it->where.size() < kMaxWherePerClass &&
        std::find(it->where.begin(), it->where.end(), where) == it->where.end()) {
      it->where.push_back(where);
    }
    return true;
  }

  // Records a real difference; entries with the same `where` are merged.
  void Differ(Difference difference) {
    differing_bytes_ += difference.bytes;
    any_difference_ = true;
    auto it = std::find_if(differences_.begin(), differences_.end(),
                           [&](const Difference& d) { return d.where == difference.where; });
    if (it == differences_.end()) {
      if (differences_.size() < kMaxDifferencesListed)
        differences_.push_back(std::move(difference));
      return;
    }
    it->bytes += difference.bytes;
    if (it->detail.empty()) it->detail = std::move(difference.detail);
    for (auto& function : difference.functions) {
      if (it->functions.size() < kMaxFunctionsPerDifference &&
          std::find(it->functions.begin(), it->functions.end(), function) == it->functions.end()) {
        it->functions.push_back(std::move(function));
      }
    }
  }

  // Marks the pair UNCOMPARABLE (the first reason wins).
  void Uncomparable(std::string reason) {
    if (reason_.empty()) reason_ = std::move(reason);
  }

  // Adds what another comparison found (e.g. a gzip payload's), its places prefixed.
  void Merge(const FileComparison& inner, const std::string& prefix) {
    if (inner.verdict == Verdict::kUncomparable) Uncomparable(prefix + inner.reason);
    for (const auto& hit : inner.classes) {
      for (const auto& where : hit.where) Tolerate(hit.tolerated_class, prefix + where);
    }
    for (auto difference : inner.differences) {
      difference.where = prefix + difference.where;
      Differ(std::move(difference));
    }
    if (text_diff_.empty()) text_diff_ = inner.text_diff;
  }

  void SetTextDiff(std::string text) { text_diff_ = std::move(text); }

  // The comparison: UNCOMPARABLE with a reason, else DIFFERENT with any difference, else
  // EQUIVALENT with any class (when `bytes_differ`, a class explains it: at worst unloaded
  // padding), else IDENTICAL.
  FileComparison Finish(std::string kind, bool bytes_differ) {
    FileComparison out;
    out.kind = std::move(kind);
    if (!reason_.empty()) {
      out.verdict = Verdict::kUncomparable;
      out.reason = std::move(reason_);
      return out;
    }
    if (bytes_differ && !any_difference_ && hits_.empty()) {
      if (!Tolerate(ToleratedClass::kSectionLayout, "unloaded padding between sections")) {
        Differ({"unloaded padding between sections", {}, 0, ""});
      }
    }
    std::sort(hits_.begin(), hits_.end(), [](const ClassHit& a, const ClassHit& b) {
      return a.tolerated_class < b.tolerated_class;
    });
    out.classes = std::move(hits_);
    out.differences = std::move(differences_);
    out.differing_bytes = differing_bytes_;
    out.text_diff = std::move(text_diff_);
    out.verdict = any_difference_        ? Verdict::kDifferent
                  : !out.classes.empty() ? Verdict::kEquivalent
                                         : Verdict::kIdentical;
    return out;
  }

 private:
  const Tolerances& tolerances_;
  std::vector<ClassHit> hits_;
  std::vector<Difference> differences_;
  std::uint64_t differing_bytes_ = 0;
  bool any_difference_ = false;
  std::string reason_;
  std::string text_diff_;
};

}  // namespace clearbox::equiv
