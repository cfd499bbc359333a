// ModelVerification as a self-check: every real model that carries one reproduces its own sample records.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "pmmlrt/pmmlrt.hpp"

namespace fs = std::filesystem;

TEST_CASE("real models reproduce their embedded ModelVerification records") {
  std::size_t models = 0, values = 0;
  for (const char* root : {PMMLRT_SOURCE_DIR "/tests/generated/cases", PMMLRT_CONFORMANCE_DIR}) {
    if (!fs::is_directory(root)) continue;
    for (auto& p : fs::recursive_directory_iterator(root)) {
      if (p.path().filename() != "model.pmml") continue;
      std::ifstream in(p.path(), std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (text.str().find("<ModelVerification") == std::string::npos) continue;
      CAPTURE(p.path().string());
      auto model = pmmlrt::Model::load_string(text.str());
      auto report = model.verify();
      for (const auto& f : report.failures) MESSAGE(f);
      CHECK(report.ok());
      CHECK(report.records > 0);
      ++models;
      values += report.values_checked;
    }
  }
  MESSAGE("verified " << models << " models, " << values << " values");
  CHECK(models > 10);
}

TEST_CASE("a tampered expected value is reported") {
  const char* doc = R"(<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <DataDictionary>
    <DataField name="x" optype="continuous" dataType="double"/>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
    <ModelVerification recordCount="2">
      <VerificationFields>
        <VerificationField field="x" column="x"/>
        <VerificationField field="y" column="y" precision="1e-9"/>
      </VerificationFields>
      <InlineTable>
        <row><x>1</x><y>3</y></row>
        <row><x>2</x><y>5.5</y></row>
      </InlineTable>
    </ModelVerification>
    <RegressionTable intercept="1"><NumericPredictor name="x" coefficient="2"/></RegressionTable>
  </RegressionModel>
</PMML>)";
  auto report = pmmlrt::Model::load_string(doc).verify();
  CHECK(report.records == 2);
  CHECK(report.values_checked == 2);
  REQUIRE(report.failures.size() == 1);
  CHECK(report.failures[0].find("record 2") != std::string::npos);
  CHECK_FALSE(report.ok());
}
