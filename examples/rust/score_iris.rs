// Scores two iris flowers through the Rust crate in rust/: cargo run --manifest-path rust/Cargo.toml --example score_iris
fn main() -> Result<(), pmmlrt::Error> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "examples/models/iris_forest.pmml".into());
    let model = pmmlrt::Model::load(path)?;
    let x = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]; // two rows, row-major, input field order
    let result = model.score_f64(&x, 2, 4, pmmlrt::Layout::RowMajor, None)?;
    let p = result.probabilities(pmmlrt::Layout::RowMajor)?;
    for (i, label) in result.labels()?.iter().enumerate() {
        println!("{} (p = {:.2}, {:.2}, {:.2})", label.as_deref().unwrap_or("?"), p[3 * i], p[3 * i + 1], p[3 * i + 2]);
    }
    Ok(())
}
