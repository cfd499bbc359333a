// Scores the bundled iris example model through the Rust wrapper and compares with the expected results of
// the generated case RandomForestIrisExample.
use std::fs;
use std::path::PathBuf;

use pmmlrt::{Cell, Function, Layout, Limit, Model, Options};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_csv(path: PathBuf) -> Vec<Vec<String>> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn iris() -> (Vec<f64>, usize, Vec<Vec<String>>) {
    let input = read_csv(root().join("examples/models/iris.csv"));
    let expected = read_csv(root().join("tests/generated/cases/RandomForestIrisExample/expected.csv"));
    let rows = input.len() - 1;
    let x = input[1..].iter().flat_map(|r| r[..4].iter().map(|c| c.parse::<f64>().unwrap())).collect();
    (x, rows, expected)
}

#[test]
fn introspection() {
    let m = Model::load(root().join("examples/models/iris_forest.pmml")).unwrap();
    assert_eq!(m.function(), Function::Classification);
    assert_eq!(m.model_type().unwrap(), "MiningModel");
    let names: Vec<&str> = m.inputs().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["sepal_length", "sepal_width", "petal_length", "petal_width"]);
    assert_eq!(m.classes(), ["setosa", "versicolor", "virginica"]);
    assert_eq!(m.targets()[0].categories.len(), 3);
    assert_eq!(m.output_names().len(), 3);
    assert_eq!(pmmlrt::abi_version(), 1);
    assert_eq!(pmmlrt::version().split('.').count(), 3);
}

#[test]
fn scores_iris_like_the_expected_results() {
    let m = Model::load(root().join("examples/models/iris_forest.pmml")).unwrap();
    let (x, rows, expected) = iris();
    let r = m.score_f64(&x, rows, 4, Layout::RowMajor, None).unwrap();
    assert_eq!(r.rows(), rows);
    let labels = r.labels().unwrap();
    let p = r.probabilities(Layout::RowMajor).unwrap();
    let predicted = r.predicted().unwrap();
    for i in 0..rows {
        assert_eq!(labels[i].as_deref(), Some(expected[i + 1][0].as_str()), "row {i}");
        assert_eq!(m.classes()[predicted[i] as usize], expected[i + 1][0]);
        for c in 0..3 {
            let want: f64 = expected[i + 1][c + 1].parse().unwrap();
            assert!((p[i * 3 + c] - want).abs() <= 1e-13, "row {i} class {c}");
        }
    }
    let setosa = r.output("probability(setosa)").unwrap();
    assert_eq!(setosa[0], p[0]);
    assert_eq!(r.output_strings("probability(setosa)").unwrap()[0].as_deref(), Some("1"));
    assert_eq!(r.error_count().unwrap(), 0);
    assert!(r.errors().unwrap().iter().all(Option::is_none));

    // Column-major f32 with named, reordered columns gives the same labels.
    let names = ["petal_width", "petal_length", "sepal_width", "sepal_length"];
    let mut xf = vec![0f32; rows * 4];
    for i in 0..rows {
        for (j, src) in [3, 2, 1, 0].iter().enumerate() {
            xf[j * rows + i] = x[i * 4 + src] as f32;
        }
    }
    let r2 = m.score_f32(&xf, rows, 4, Layout::ColumnMajor, Some(&names)).unwrap();
    assert_eq!(r2.labels().unwrap(), labels);

    // One record.
    let one = m.score_one(&x[..4]).unwrap();
    assert_eq!(one.predicted, 0.0);
    assert_eq!(one.probabilities, vec![1.0, 0.0, 0.0]);
}

#[test]
fn cells_and_errors() {
    let m = Model::load(root().join("examples/models/iris_forest.pmml")).unwrap();
    let cols = ["sepal_length", "sepal_width", "petal_length", "petal_width"];
    let cells = [Cell::Text("5.1"), Cell::Number(3.5), Cell::Text("1.4"), Cell::Number(0.2),
                 Cell::Text("x"), Cell::Number(3.0), Cell::Number(5.2), Cell::Number(2.3),
                 Cell::Missing, Cell::Missing, Cell::Missing, Cell::Missing];
    let e = m.score_cells(&cols, &cells, None).err().expect("row 1 is invalid");
    assert_eq!(e.status, 4);
    assert!(e.message.contains("sepal_length"), "{}", e.message);
    assert_eq!(e.status_name(), "PMMLRT_ERROR_INPUT");
    let record = Options::new().unwrap().record_row_errors(true).unwrap();
    let r = m.score_cells(&cols, &cells, Some(&record)).unwrap();
    assert_eq!(r.error_count().unwrap(), 1);
    assert_eq!(r.labels().unwrap()[0].as_deref(), Some("setosa"));
    assert!(r.errors().unwrap()[1].is_some());
    assert_eq!(r.rows(), 3);
    let threaded = Options::new().unwrap().record_row_errors(true).unwrap().threads(2).unwrap();
    assert_eq!(m.score_cells(&cols, &cells, Some(&threaded)).unwrap().labels().unwrap(), r.labels().unwrap());

    assert_eq!(m.score_f64(&[1.0; 6], 2, 3, Layout::RowMajor, None).err().unwrap().status, 8);
    assert_eq!(m.score_f64(&[1.0; 5], 2, 3, Layout::RowMajor, None).err().unwrap().status, 100);
    assert_eq!(m.score_f64(&[1.0; 2], 2, 1, Layout::RowMajor, Some(&["nope"])).err().unwrap().status, 103);
    assert_eq!(Model::load("/nonexistent.pmml").err().unwrap().status, 7);
    assert_eq!(Model::from_bytes(b"<PMML", None).err().unwrap().status, 1);
    let small = Options::new().unwrap().limit(Limit::DocumentBytes, 10).unwrap();
    assert_eq!(small.get_limit(Limit::DocumentBytes).unwrap(), 10);
    let e = Model::load_with(root().join("examples/models/iris_forest.pmml"), Some(&small)).err().unwrap();
    assert_eq!(e.status, 6);
    assert!(Options::new().unwrap().expected_sha256("abc").is_err());
    assert!(format!("{e}").contains("PMMLRT_ERROR_LIMIT"));
}

#[test]
fn many_threads_share_one_model() {
    let m = Model::load(root().join("examples/models/iris_forest.pmml")).unwrap();
    let (x, rows, _) = iris();
    let reference = m.score_f64(&x, rows, 4, Layout::RowMajor, None).unwrap().probabilities(Layout::RowMajor).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..10 {
                    let p = m.score_f64(&x, rows, 4, Layout::RowMajor, None).unwrap().probabilities(Layout::RowMajor).unwrap();
                    assert_eq!(p, reference);
                }
            });
        }
    });
}
