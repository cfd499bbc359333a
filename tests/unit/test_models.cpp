// Semantics the corpus does not pin down, each checked against the formula the reference uses.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "pmmlrt/pmmlrt.hpp"

using pmmlrt::Model;
using pmmlrt::Value;

namespace {

std::string glm(const std::string& link_attrs) {
  return R"(<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <DataDictionary>
    <DataField name="x" optype="continuous" dataType="double"/>
    <DataField name="t" optype="continuous" dataType="double"/>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <GeneralRegressionModel functionName="regression" modelType="generalizedLinear" )" +
         link_attrs + R"(>
    <MiningSchema><MiningField name="x"/><MiningField name="t"/><MiningField name="y" usageType="target"/></MiningSchema>
    <ParameterList><Parameter name="p0"/><Parameter name="p1"/></ParameterList>
    <CovariateList><Predictor name="x"/></CovariateList>
    <PPMatrix><PPCell value="1" predictorName="x" parameterName="p1"/></PPMatrix>
    <ParamMatrix><PCell parameterName="p0" beta="0.5"/><PCell parameterName="p1" beta="0.25"/></ParamMatrix>
  </GeneralRegressionModel>
</PMML>)";
}

double score_glm(const std::string& attrs, double x, double t = 1.0) {
  auto m = Model::load_string(glm(attrs));
  return m.score({{"x", x}, {"t", t}}).predicted().number();
}

}  // namespace

TEST_CASE("generalizedLinear inverse links, offset and trials") {
  const double eta = 0.5 + 0.25 * 2.0;  // x = 2
  CHECK(score_glm(R"(linkFunction="identity")", 2) == doctest::Approx(eta));
  CHECK(score_glm(R"(linkFunction="log")", 2) == doctest::Approx(std::exp(eta)));
  CHECK(score_glm(R"(linkFunction="logit")", 2) == doctest::Approx(1 / (1 + std::exp(-eta))));
  CHECK(score_glm(R"(linkFunction="probit")", 2) == doctest::Approx(0.5 * std::erfc(-eta / std::sqrt(2.0))));
  CHECK(score_glm(R"(linkFunction="cloglog")", 2) == doctest::Approx(1 - std::exp(-std::exp(eta))));
  CHECK(score_glm(R"(linkFunction="loglog")", 2) == doctest::Approx(std::exp(-std::exp(-eta))));
  CHECK(score_glm(R"(linkFunction="cauchit")", 2) == doctest::Approx(0.5 + std::atan(eta) / M_PI));
  CHECK(score_glm(R"(linkFunction="power" linkParameter="-1")", 2) == doctest::Approx(1 / eta));
  CHECK(score_glm(R"(linkFunction="power" linkParameter="0")", 2) == doctest::Approx(std::exp(eta)));
  CHECK(score_glm(R"(linkFunction="oddspower" linkParameter="2")", 2) ==
        doctest::Approx(1 / (1 + std::pow(1 + 2 * eta, -0.5))));
  CHECK(score_glm(R"(linkFunction="negbin" distParameter="2")", 2) == doctest::Approx(1 / (2 * (std::exp(-eta) - 1))));
  CHECK(score_glm(R"(linkFunction="identity" offsetValue="3")", 2) == doctest::Approx(eta + 3));
  CHECK(score_glm(R"(linkFunction="log" offsetVariable="t")", 2, 0.5) == doctest::Approx(std::exp(eta + 0.5)));
  CHECK(score_glm(R"(linkFunction="logit" trialsValue="10")", 2) == doctest::Approx(10 / (1 + std::exp(-eta))));
  CHECK_THROWS_AS(Model::load_string(glm(R"(linkFunction="negbin")")), pmmlrt::ModelError);
  CHECK_THROWS_AS(Model::load_string(glm(R"(linkFunction="power")")), pmmlrt::ModelError);
  CHECK_THROWS_AS(Model::load_string(glm(R"(linkFunction="nosuchlink")")), pmmlrt::UnsupportedError);
}

namespace {

std::string logistic(const std::string& norm, int tables, const std::string& second = "") {
  std::string doc = R"(<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <DataDictionary>
    <DataField name="x" optype="continuous" dataType="double"/>
    <DataField name="c" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/><Value value="d"/></DataField>
  </DataDictionary>
  <RegressionModel functionName="classification" normalizationMethod=")" + norm + R"(">
    <MiningSchema><MiningField name="x"/><MiningField name="c" usageType="target"/></MiningSchema>
    <RegressionTable intercept="0.5" targetCategory="a"><NumericPredictor name="x" coefficient="1"/></RegressionTable>)";
  if (tables >= 2) doc += second.empty() ? R"(<RegressionTable intercept="0" targetCategory="b"/>)" : second;
  if (tables >= 3) doc += R"(<RegressionTable intercept="-1" targetCategory="d"><NumericPredictor name="x" coefficient="2"/></RegressionTable>)";
  return doc + "</RegressionModel></PMML>";
}

}  // namespace

TEST_CASE("RegressionModel classification normalizations follow the reference's special cases") {
  const double y0 = 0.5 + 1.0, y2 = -1 + 2.0;  // x = 1
  SUBCASE("binary logit uses the first table only") {
    auto r = Model::load_string(logistic("logit", 2, R"(<RegressionTable intercept="42" targetCategory="b"/>)"))
                 .score({{"x", 1.0}});
    CHECK(*r.probability("a") == doctest::Approx(1 / (1 + std::exp(-y0))));
    CHECK(*r.probability("b") == doctest::Approx(1 - 1 / (1 + std::exp(-y0))));
  }
  SUBCASE("binary softmax with a trivial second table is the logit") {
    auto r = Model::load_string(logistic("softmax", 2)).score({{"x", 1.0}});
    CHECK(*r.probability("a") == 1 / (1 + std::exp(-y0)));
  }
  SUBCASE("multiclass logit: sigmoid per table, then normalised") {
    auto r = Model::load_string(logistic("logit", 3)).score({{"x", 1.0}});
    double s0 = 1 / (1 + std::exp(-y0)), s1 = 0.5, s2 = 1 / (1 + std::exp(-y2));
    CHECK(*r.probability("a") == doctest::Approx(s0 / (s0 + s1 + s2)));
    CHECK(*r.probability("d") == doctest::Approx(s2 / (s0 + s1 + s2)));
    CHECK(r.predicted().text() == "a");
  }
  SUBCASE("binary none clamps p1 to [0, 1]") {
    auto r = Model::load_string(logistic("none", 2)).score({{"x", 1.0}});
    CHECK(*r.probability("a") == 1.0);
    CHECK(*r.probability("b") == 0.0);
  }
  SUBCASE("multiclass none: the last class takes the rest") {
    auto r = Model::load_string(logistic("none", 3)).score({{"x", -0.2}});
    double a = 0.3, b = 0.0;
    CHECK(*r.probability("d") == doctest::Approx(1 - a - b));
  }
  SUBCASE("simplemax over zeros is an evaluation error") {
    auto m = Model::load_string(logistic("simplemax", 2));
    CHECK_THROWS_AS(m.score({{"x", -0.5}}), pmmlrt::EvaluationError);
  }
  SUBCASE("a missing numeric input gives no prediction") {
    auto r = Model::load_string(logistic("softmax", 3)).score({});
    CHECK(r.predicted().is_missing());
    CHECK(r.probabilities().empty());
  }
}

TEST_CASE("Targets: clamp, rescale, castInteger and the default for a missing prediction") {
  std::string doc = R"(<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <DataDictionary>
    <DataField name="x" optype="continuous" dataType="double"/>
    <DataField name="y" optype="continuous" dataType="double"/>
  </DataDictionary>
  <RegressionModel functionName="regression">
    <MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/></MiningSchema>
    <Targets><Target field="y" min="0" max="10" rescaleFactor="2" rescaleConstant="0.25" castInteger="round">
      <TargetValue defaultValue="-1"/></Target></Targets>
    <RegressionTable intercept="0"><NumericPredictor name="x" coefficient="1"/></RegressionTable>
  </RegressionModel>
</PMML>)";
  auto m = Model::load_string(doc);
  CHECK(m.score({{"x", 3.3}}).predicted().number() == 7.0);    // 3.3*2+0.25 = 6.85 -> 7
  CHECK(m.score({{"x", 99.0}}).predicted().number() == 20.0);  // clamped to 10 first
  CHECK(m.score({{"x", -5.0}}).predicted().number() == 0.0);
  CHECK(m.score({{"x", Value()}}).predicted().number() == -1.0);  // missing input -> defaultValue
}
