#include "identify/identifier.hpp"
#include "scan/analysers/analysers.hpp"

namespace clearbox::scan {
namespace {

class IdentifyAnalyser final : public Analyser {
 public:
  explicit IdentifyAnalyser(identify::ComponentIdentifier identifier)
      : identifier_(std::move(identifier)) {}

  std::string_view Name() const override { return "identify"; }

  void AddFile(const FileView& file) override {
    if (file.kind == FileKind::kRegular) identifier_.AddFile(file);
  }

  Result<void> Finish(const AnalysisContext& context, report::Evidence& evidence) override {
    for (auto& c : identifier_.Finish(context.tree)) evidence.components.push_back(std::move(c));
    for (auto& p : identifier_.problems()) evidence.analysis_problems.push_back(std::move(p));
    return {};
  }

 private:
  identify::ComponentIdentifier identifier_;
};

}  // namespace

Result<std::unique_ptr<Analyser>> MakeIdentifyAnalyser(const ScanOptions& options) {
  auto identifier = identify::ComponentIdentifier::Create(options.data_dir / "signatures");
  if (!identifier) return Forward(identifier);
  return std::make_unique<IdentifyAnalyser>(std::move(*identifier));
}

}  // namespace clearbox::scan
