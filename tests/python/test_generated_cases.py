"""Every generated conformance case (tests/generated/cases) through the Python package: the results must pass
the case's checks (case.json tolerances, the same criterion as the C++ conformance runner), and, when the
command-line tool is available ($PMMLRT_CLI, the C++ API's scorer), be identical to its output."""
import csv
import json
import math
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pmmlrt

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "generated" / "cases"
CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "case.json").exists()) if CASES.is_dir() else []


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def ulp32(x):
    x = abs(f32(x))
    if x == 0 or x < 2.0 ** -126:
        return 2.0 ** -149
    return 2.0 ** (math.frexp(x)[1] - 24)


def number_ok(expected, actual, tol):
    kind = tol["kind"]
    if kind == "relative":
        r, z = tol["rel"], tol.get("zero", 0.0)
        if abs(expected) <= z and abs(actual) <= z:
            return True
        return abs(actual - expected) <= r * abs(expected)
    if kind == "absolute":
        return abs(actual - expected) <= tol["abs"]
    if kind == "float_ulps":
        return abs(f32(actual) - f32(expected)) <= tol["ulps"] * ulp32(expected)
    if kind == "exact":
        return actual == expected
    raise AssertionError(f"unknown tolerance {kind}")


def is_missing(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def read_input(case_dir, manifest):
    """input.csv as text cells (object dtype), missing tokens as None."""
    tokens = set(manifest.get("missing_tokens", []))
    with open(case_dir / manifest["input"], newline="") as f:
        rows = list(csv.reader(f))
    body = [[None if c in tokens else c for c in r] for r in rows[1:]]
    return pd.DataFrame(body, columns=rows[0], dtype=object)


def result_column(model, scored, result):
    if "output" in result:
        return scored[result["output"]]
    if "probability" in result:
        return scored[f"probability({result['probability']})"]
    if "target" in result:
        assert result["target"] == model.target_name, "only the first target is exposed"
        return scored[model.target_name]
    pytest.skip(f"result shape {result} is not exposed by the batch API")


def check_case(model, scored, manifest, case_dir, what):
    expected = pd.read_csv(case_dir / manifest["expected"], dtype=str, keep_default_na=False)
    failures = []
    for check in manifest["checks"]:
        column = result_column(model, scored, check["result"])
        tokens = check.get("missing_expected_tokens", [])
        for row, (want, got) in enumerate(zip(expected[check["column"]], column)):
            if want in tokens:
                if not is_missing(got):
                    failures.append((row, check["column"], want, got))
                continue
            if is_missing(got):
                failures.append((row, check["column"], want, got))
            elif check["type"] == "string":
                if str(got) != want:
                    failures.append((row, check["column"], want, got))
            elif not number_ok(float(want), float(got), check["tolerance"]):
                failures.append((row, check["column"], want, got))
    assert not failures, f"{case_dir.name} ({what}): {len(failures)} failures, first: {failures[:5]}"


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case_as_text(case_dir):
    """The input cells as text (parsed by each field's dataType, as the C++ conformance runner does)."""
    manifest = json.loads((case_dir / "case.json").read_text())
    model = pmmlrt.load(case_dir / manifest["model"])
    scored = model.score(read_input(case_dir, manifest))
    check_case(model, scored, manifest, case_dir, "text cells")


@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case_as_numbers(case_dir):
    """Numeric DataFrame / NumPy matrix inputs (categorical strings as codes) give the same results."""
    manifest = json.loads((case_dir / "case.json").read_text())
    model = pmmlrt.load(case_dir / manifest["model"])
    text = read_input(case_dir, manifest)
    X = np.empty((len(text), len(model.input_fields)))
    for j, f in enumerate(model.input_fields):
        cells = text[f.name]
        if f.data_type == "string":
            X[:, j] = [np.nan if v is None else float(f.categories.index(v)) for v in cells]
        else:
            X[:, j] = [np.nan if v is None else float(v) for v in cells]
    reference = model.score(text)
    by_matrix = model.score(X)
    for name in reference.columns:
        a, b = reference[name].to_numpy(), by_matrix[name].to_numpy()
        if a.dtype == object:
            assert list(a) == list(b), name
        else:
            # Text parsed straight to float32 and text parsed to double then rounded may differ by one
            # rounding for float fields; the manifest's checks still hold for both.
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-12, err_msg=name)
    check_case(model, by_matrix, manifest, case_dir, "numeric matrix")
    if all(f.data_type != "string" for f in model.input_fields):
        frame = pd.DataFrame(X, columns=[f.name for f in model.input_fields])
        by_frame = model.score(frame)
        assert model._last_input[1] == "frame"
        pd.testing.assert_frame_equal(by_frame, by_matrix)


CLI = os.environ.get("PMMLRT_CLI")


def assert_identical_to_cli(model, scored, cli):
    """Every column the Python results share with the CLI's output holds the same values."""
    float_outputs = {o.name for o in model.outputs if o.data_type == "float"}
    if model.target_fields and model.target_fields[0].data_type == "float":
        float_outputs.add(model.target_name)
    compared = 0
    for name in cli.columns:
        if name not in scored.columns:
            continue
        compared += 1
        # float-typed values: the CLI writes the shortest float32 text, which reads back to the same float32.
        same = (lambda w, g: f32(float(w)) == g) if name in float_outputs else (lambda w, g: float(w) == g)
        for row, (want, got) in enumerate(zip(cli[name], scored[name])):
            if want == "":
                assert is_missing(got), (name, row, got)
            elif isinstance(got, str):
                assert got == want, (name, row)
            else:
                assert same(want, got), (name, row, want, got)
    assert compared > 0


@pytest.mark.skipif(not CLI or not Path(CLI).exists(), reason="set PMMLRT_CLI to the pmmlrt command-line tool")
@pytest.mark.parametrize("case_dir", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case_identical_to_cli(case_dir, tmp_path):
    """Bit-identical to the C++ API as the command-line tool reports it (round-trip text)."""
    manifest = json.loads((case_dir / "case.json").read_text())
    tokens = ",".join(t if t else "empty" for t in manifest.get("missing_tokens", [])) or "none"
    out = tmp_path / "out.csv"
    subprocess.run([CLI, "score", str(case_dir / "model.pmml"), str(case_dir / "input.csv"), "-o", str(out),
                    "--missing", tokens, "--all-outputs"], check=True)
    cli = pd.read_csv(out, dtype=str, keep_default_na=False)
    model = pmmlrt.load(case_dir / "model.pmml")
    assert_identical_to_cli(model, model.score(read_input(case_dir, manifest)), cli)


SHARED = Path(os.environ.get("PMMLRT_CONFORMANCE_DIR", ROOT.parent / "shared" / "conformance"))
SHARED_DIRS = sorted(p.parent for p in SHARED.glob("*/*/case.json")) if SHARED.is_dir() else []


@pytest.mark.skipif(not CLI or not Path(CLI).exists(), reason="set PMMLRT_CLI to the pmmlrt command-line tool")
@pytest.mark.parametrize("case_dir", SHARED_DIRS, ids=[f"{p.parent.name}/{p.name}" for p in SHARED_DIRS])
def test_shared_case_identical_to_cli(case_dir, tmp_path):
    """Every case of the shared corpus (read in place): Python gives what the C++ API gives through the CLI.
    The C++ results themselves are held to the expected values by the conformance tests."""
    manifest = json.loads((case_dir / "case.json").read_text())
    document = (case_dir / "model.pmml").read_text(encoding="utf-8", errors="surrogateescape")
    # The corpus' SAS quirk (its README): FMTWIDTH inside DefineFunctions is a field, not a constant.
    document = document.replace("<Constant>FMTWIDTH</Constant>", '<FieldRef field="FMTWIDTH"/>')
    model_path = tmp_path / "model.pmml"
    model_path.write_text(document, encoding="utf-8", errors="surrogateescape")
    tokens = ",".join(t if t else "empty" for t in manifest.get("missing_tokens", [])) or "none"
    out = tmp_path / "out.csv"
    subprocess.run([CLI, "score", str(model_path), str(case_dir / "input.csv"), "-o", str(out),
                    "--missing", tokens, "--all-outputs"], check=True)
    cli = pd.read_csv(out, dtype=str, keep_default_na=False)
    model = pmmlrt.load(model_path)
    assert_identical_to_cli(model, model.score(read_input(case_dir, manifest)), cli)
