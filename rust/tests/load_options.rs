// The load options Options::leaf_precision and Options::load_threads: Half rounds tree leaves (and only when
// asked), load threads never change the model or a failed load's error.
use std::fs;
use std::path::PathBuf;

use pmmlrt::{LeafPrecision, Layout, Model, Options};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A regression tree with the leaves 0.1 (not a binary16 value: Half makes it 0.0999755859375) and `leaf`.
fn half_tree(leaf: &str) -> String {
    format!(
        r#"<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4"><Header/>
<DataDictionary><DataField name="x" optype="continuous" dataType="double"/>
<DataField name="y" optype="continuous" dataType="double"/></DataDictionary>
<TreeModel functionName="regression"><MiningSchema><MiningField name="x"/><MiningField name="y" usageType="target"/>
</MiningSchema><Node><True/><Node score="0.1"><SimplePredicate field="x" operator="lessThan" value="0"/></Node>
<Node score="{leaf}"><True/></Node></Node></TreeModel></PMML>"#
    )
}

fn predict(model: &Model, x: &[f64], rows: usize) -> Vec<f64> {
    model.score_f64(x, rows, model.inputs().len(), Layout::RowMajor, None).unwrap().predicted().unwrap()
}

fn options(precision: LeafPrecision, load_threads: usize) -> Options {
    Options::new().unwrap().leaf_precision(precision).unwrap().load_threads(load_threads).unwrap()
}

/// A generated XGBoost regression forest (50 Segments) and its input rows in the model's input order.
fn diabetes() -> (PathBuf, Vec<f64>, usize) {
    let case = root().join("tests/generated/cases/XGBoostDiabetes");
    let text = fs::read_to_string(case.join("input.csv")).unwrap();
    let mut lines = text.lines().filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let model = Model::load(case.join("model.pmml")).unwrap();
    let columns: Vec<usize> =
        model.inputs().iter().map(|f| header.iter().position(|h| *h == f.name).expect("input column")).collect();
    let x = rows.iter().flat_map(|r| columns.iter().map(|&c| r[c].parse::<f64>().unwrap())).collect();
    (case.join("model.pmml"), x, rows.len())
}

#[test]
fn leaf_precision_half_rounds_tree_leaves() {
    let x = [-1.0, 1.0];
    let doc = half_tree("2.5");
    assert_eq!(Options::new().unwrap().get_leaf_precision().unwrap(), LeafPrecision::Exact);
    let default = Model::from_bytes(doc.as_bytes(), None).unwrap();
    assert_eq!(predict(&default, &x, 2), [0.1, 2.5]);
    let exact = Model::from_bytes(doc.as_bytes(), Some(&options(LeafPrecision::Exact, 1))).unwrap();
    assert_eq!(predict(&exact, &x, 2), [0.1, 2.5]);
    let half_options = options(LeafPrecision::Half, 1);
    assert_eq!(half_options.get_leaf_precision().unwrap(), LeafPrecision::Half);
    let half = Model::from_bytes(doc.as_bytes(), Some(&half_options)).unwrap();
    assert_eq!(predict(&half, &x, 2), [0.0999755859375, 2.5]);
    assert_eq!(half.score_one(&[-1.0]).unwrap().predicted, 0.0999755859375);

    // A leaf beyond binary16's range: a usage error naming the cause, and only in Half mode.
    let huge = half_tree("70000");
    let e = Model::from_bytes(huge.as_bytes(), Some(&half_options)).err().expect("70000 is beyond binary16");
    assert_eq!(e.status, 8, "{e}");
    assert!(e.message.contains("binary16"), "{}", e.message);
    assert!(Model::from_bytes(huge.as_bytes(), Some(&options(LeafPrecision::Exact, 1))).is_ok());
}

#[test]
fn leaf_precision_half_moves_a_forest_a_little() {
    let (path, x, rows) = diabetes();
    let exact = predict(&Model::load(&path).unwrap(), &x, rows);
    let half = predict(&Model::load_with(&path, Some(&options(LeafPrecision::Half, 1))).unwrap(), &x, rows);
    assert_ne!(exact, half);
    for (e, h) in exact.iter().zip(&half) {
        assert!((e - h).abs() <= 1e-2 * e.abs(), "exact {e}, half {h}");
    }
}

#[test]
fn load_threads_give_the_same_model() {
    let (path, x, rows) = diabetes();
    for precision in [LeafPrecision::Exact, LeafPrecision::Half] {
        let one = predict(&Model::load_with(&path, Some(&options(precision, 1))).unwrap(), &x, rows);
        for threads in [2, 4, 0] {
            let many = predict(&Model::load_with(&path, Some(&options(precision, threads))).unwrap(), &x, rows);
            assert_eq!(many, one, "{threads} load threads, {precision:?}");
        }
    }
    // The error of a failed load too: a bad number in the last Segment.
    let text = fs::read_to_string(&path).unwrap();
    let at = text.rfind(" score=\"").unwrap() + " score=\"".len();
    let broken = format!("{}oops{}", &text[..at], &text[at..]);
    let one = Model::from_bytes(broken.as_bytes(), Some(&options(LeafPrecision::Exact, 1))).err().expect("a bad score");
    let many = Model::from_bytes(broken.as_bytes(), Some(&options(LeafPrecision::Exact, 4))).err().expect("a bad score");
    assert_eq!(many, one);
}
