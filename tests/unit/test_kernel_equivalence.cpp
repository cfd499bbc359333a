// Every optimised path must give exactly what the generic walk gives: score each real model both ways
// (ensemble kernel on and off), record by record and as a batch, and compare every result bit for bit.

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/csv.hpp"
#include "pmmlrt/pmmlrt.hpp"
#include "support.hpp"

namespace fs = std::filesystem;

namespace {

bool identical(const pmmlrt::Value& a, const pmmlrt::Value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.is_number()) {
    return pmmlrt_test::same_bits(a.number(), b.number());
  }
  return a == b;
}

std::vector<fs::path> case_dirs() {
  std::vector<fs::path> out;
  for (const char* root : {PMMLRT_SOURCE_DIR "/tests/generated/cases", PMMLRT_CONFORMANCE_DIR}) {
    if (!fs::is_directory(root)) continue;
    for (auto& p : fs::recursive_directory_iterator(root))
      if (p.path().filename() == "model.pmml" && fs::exists(p.path().parent_path() / "input.csv"))
        out.push_back(p.path().parent_path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

using pmmlrt_test::slurp;

}  // namespace

TEST_CASE("the ensemble kernel and the generic walk agree on every real model") {
  auto dirs = case_dirs();
  REQUIRE(dirs.size() > 20);
  std::size_t kernel_models = 0, rows_compared = 0;
  for (const auto& dir : dirs) {
    CAPTURE(dir.string());
    std::string text = slurp(dir / "model.pmml");
    // The SAS corpus quirk (see the conformance README): FMTWIDTH is a field, not a constant.
    for (std::size_t pos; (pos = text.find("<Constant>FMTWIDTH</Constant>")) != std::string::npos;)
      text.replace(pos, std::strlen("<Constant>FMTWIDTH</Constant>"), "<FieldRef field=\"FMTWIDTH\"/>");
    pmmlrt::LoadOptions fast, slow;
    slow.ensemble_kernel = false;
    auto a = pmmlrt::Model::load_string(text, fast);
    auto b = pmmlrt::Model::load_string(text, slow);
    if (text.find("<Segmentation") != std::string::npos) ++kernel_models;

    std::ifstream in(dir / "input.csv");
    pmmlrt::csv::TableReader table(in);
    std::vector<std::string> row;
    std::vector<std::string> names;
    std::vector<std::vector<pmmlrt::Value>> columns;
    for (const auto& f : a.input_fields()) {
      names.push_back(f.name);
      columns.emplace_back();
    }
    std::size_t n = 0;
    std::vector<pmmlrt::Value> record_predictions;
    while (table.next(row) && n < 300) {
      pmmlrt::Record record;
      for (std::size_t i = 0; i < names.size(); ++i) {
        auto col = table.column(names[i]);
        pmmlrt::Value v;
        if (col && row[*col] != "N/A" && row[*col] != "NA") v = pmmlrt::Value(row[*col]);
        record[names[i]] = v;
        columns[i].push_back(v);
      }
      ++n;
      pmmlrt::Result ra, rb;
      bool fa = false, fb = false;
      try { ra = a.score(record); } catch (const pmmlrt::Error&) { fa = true; }
      try { rb = b.score(record); } catch (const pmmlrt::Error&) { fb = true; }
      REQUIRE(fa == fb);
      record_predictions.push_back(fa ? pmmlrt::Value() : ra.predicted());
      if (fa) continue;
      REQUIRE(identical(ra.predicted(), rb.predicted()));
      REQUIRE(ra.probabilities().size() == rb.probabilities().size());
      for (std::size_t c = 0; c < ra.probabilities().size(); ++c)
        REQUIRE(std::memcmp(&ra.probabilities()[c], &rb.probabilities()[c], sizeof(double)) == 0);
      REQUIRE(ra.outputs().size() == rb.outputs().size());
      for (std::size_t o = 0; o < ra.outputs().size(); ++o) REQUIRE(identical(ra.outputs()[o].value, rb.outputs()[o].value));
      ++rows_compared;
    }
    // The batch path over the same rows gives the same predictions as the record path.
    if (names.empty()) continue;  // a model without inputs: a batch of no columns has no rows
    pmmlrt::BatchOptions record_errors;
    record_errors.on_error = pmmlrt::RowErrorPolicy::Record;
    auto batch = a.score(names, columns, record_errors);
    auto batch_slow = b.score(names, columns, record_errors);
    REQUIRE(batch.rows() == n);
    for (std::size_t r = 0; r < n; ++r) {
      REQUIRE(identical(batch.predicted_values()[r], batch_slow.predicted_values()[r]));
      REQUIRE(identical(batch.predicted_values()[r], record_predictions[r]));
      REQUIRE(batch.errors()[r] == batch_slow.errors()[r]);
    }
  }
  MESSAGE("compared " << rows_compared << " rows over " << dirs.size() << " models (" << kernel_models << " ensembles)");
}
