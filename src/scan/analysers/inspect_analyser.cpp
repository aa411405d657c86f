#include "inspect/inspector.hpp"
#include "scan/analysers/analysers.hpp"

namespace clearbox::scan {
namespace {

class InspectAnalyser final : public Analyser {
 public:
  explicit InspectAnalyser(inspect::Inspector inspector) : inspector_(std::move(inspector)) {}

  std::string_view Name() const override { return "inspect"; }

  void AddFile(const FileView& file) override { inspector_.AddFile(file); }

  Result<void> Finish(const AnalysisContext&, report::Evidence& evidence) override {
    for (auto& f : inspector_.Finish()) evidence.findings.push_back(std::move(f));
    for (auto& p : inspector_.problems()) evidence.analysis_problems.push_back(std::move(p));
    return {};
  }

 private:
  inspect::Inspector inspector_;
};

}  // namespace

Result<std::unique_ptr<Analyser>> MakeInspectAnalyser(const ScanOptions& options) {
  inspect::InspectOptions inspect_options;
  inspect_options.now_unix = options.now;
  auto inspector = inspect::Inspector::Create(options.data_dir / "inspect", inspect_options);
  if (!inspector) return Forward(inspector);
  return std::make_unique<InspectAnalyser>(std::move(*inspector));
}

}  // namespace clearbox::scan
