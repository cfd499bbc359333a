//! Safe Rust bindings to pmmlrt, a PMML scoring library, over its stable C ABI (`libpmmlrt_c`).
//!
//! ```no_run
//! let model = pmmlrt::Model::load("examples/models/iris_forest.pmml")?;
//! let x = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]; // two rows, row-major, input field order
//! let result = model.score_f64(&x, 2, 4, pmmlrt::Layout::RowMajor, None)?;
//! assert_eq!(result.labels()?[0].as_deref(), Some("setosa"));
//! # Ok::<(), pmmlrt::Error>(())
//! ```
//!
//! A [`Model`] is immutable, `Send` and `Sync`: score it from many threads at once.

pub mod ffi;

use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_char, c_int};
use std::path::Path;
use std::ptr::{self, NonNull};

/// A pmmlrt error: the C status code and the library's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The `pmmlrt_status` value (1 = parse ... 8 = usage, 100+ = misuse of the C interface).
    pub status: i32,
    /// The message naming the element, field or row at fault.
    pub message: String,
}

impl Error {
    /// The name of the status ("PMMLRT_ERROR_PARSE", ...).
    pub fn status_name(&self) -> String {
        unsafe { cstr(ffi::pmmlrt_status_name(self.status)) }
    }
    fn usage(message: impl Into<String>) -> Error {
        Error { status: 100, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.status_name())
    }
}

impl std::error::Error for Error {}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

unsafe fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

fn check(status: ffi::pmmlrt_status) -> Result<()> {
    if status == ffi::PMMLRT_OK {
        Ok(())
    } else {
        Err(Error { status, message: unsafe { cstr(ffi::pmmlrt_last_error()) } })
    }
}

fn c_string(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::usage(format!("{s:?} contains a NUL byte")))
}

/// The version of the linked library ("0.1.0").
pub fn version() -> String {
    unsafe { cstr(ffi::pmmlrt_version()) }
}

/// The ABI version of the linked library (the SONAME's major version).
pub fn abi_version() -> i32 {
    unsafe { ffi::pmmlrt_abi_version() }
}

/// Storage order of a matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    RowMajor,
    ColumnMajor,
}

impl Layout {
    fn raw(self) -> c_int {
        match self {
            Layout::RowMajor => ffi::PMMLRT_ROW_MAJOR,
            Layout::ColumnMajor => ffi::PMMLRT_COLUMN_MAJOR,
        }
    }
}

/// PMML functionName.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Regression,
    Classification,
}

/// Load limits (see pmmlrt::LoadOptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    DocumentBytes = 1,
    ElementDepth = 2,
    TreeDepth = 3,
    Nodes = 4,
    Segments = 5,
    Fields = 6,
    Categories = 7,
}

/// How tree models store their leaf values (see pmmlrt::LoadOptions::leaf_precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeafPrecision {
    /// As the document writes them (the default).
    #[default]
    Exact,
    /// Every TreeModel leaf score, probability and confidence rounded to IEEE binary16 at load: an opt-in
    /// reduced precision whose results differ from the reference's.
    Half,
}

/// Loading and scoring options.
pub struct Options {
    ptr: NonNull<ffi::pmmlrt_options>,
}

impl Options {
    /// Options with the defaults.
    pub fn new() -> Result<Options> {
        let mut p = ptr::null_mut();
        check(unsafe { ffi::pmmlrt_options_create(&mut p) })?;
        Ok(Options { ptr: NonNull::new(p).expect("pmmlrt_options_create returned NULL") })
    }
    /// Sets a load limit.
    pub fn limit(self, which: Limit, value: u64) -> Result<Options> {
        check(unsafe { ffi::pmmlrt_options_set_limit(self.ptr.as_ptr(), which as c_int, value) })?;
        Ok(self)
    }
    /// Reads a load limit.
    pub fn get_limit(&self, which: Limit) -> Result<u64> {
        let mut v = 0u64;
        check(unsafe { ffi::pmmlrt_options_get_limit(self.ptr.as_ptr(), which as c_int, &mut v) })?;
        Ok(v)
    }
    /// Requires the document to have this SHA-256 (64 hex digits).
    pub fn expected_sha256(self, hex: &str) -> Result<Options> {
        let hex = c_string(hex)?;
        check(unsafe { ffi::pmmlrt_options_set_expected_sha256(self.ptr.as_ptr(), hex.as_ptr()) })?;
        Ok(self)
    }
    /// Batch scoring records failing rows (missing results plus a message) instead of failing.
    pub fn record_row_errors(self, record: bool) -> Result<Options> {
        let policy = if record { ffi::PMMLRT_ROW_ERRORS_RECORD } else { ffi::PMMLRT_ROW_ERRORS_FAIL };
        check(unsafe { ffi::pmmlrt_options_set_row_errors(self.ptr.as_ptr(), policy) })?;
        Ok(self)
    }

    /// Threads for batch scoring: 1 (default) the calling thread only, 0 one per hardware thread; the
    /// results do not depend on it.
    pub fn threads(self, threads: usize) -> Result<Options> {
        check(unsafe { ffi::pmmlrt_options_set_threads(self.ptr.as_ptr(), threads) })?;
        Ok(self)
    }

    /// The leaf precision of models loaded with these options ([`LeafPrecision::Exact`] by default). With
    /// [`LeafPrecision::Half`], loading a model with a finite leaf value beyond the binary16 range (65504)
    /// fails with a usage error (status 8).
    pub fn leaf_precision(self, precision: LeafPrecision) -> Result<Options> {
        let raw = match precision {
            LeafPrecision::Exact => ffi::PMMLRT_LEAF_PRECISION_EXACT,
            LeafPrecision::Half => ffi::PMMLRT_LEAF_PRECISION_HALF,
        };
        check(unsafe { ffi::pmmlrt_options_set_leaf_precision(self.ptr.as_ptr(), raw) })?;
        Ok(self)
    }
    /// Reads the leaf precision.
    pub fn get_leaf_precision(&self) -> Result<LeafPrecision> {
        let mut raw = 0;
        check(unsafe { ffi::pmmlrt_options_get_leaf_precision(self.ptr.as_ptr(), &mut raw) })?;
        match raw {
            ffi::PMMLRT_LEAF_PRECISION_EXACT => Ok(LeafPrecision::Exact),
            ffi::PMMLRT_LEAF_PRECISION_HALF => Ok(LeafPrecision::Half),
            other => Err(Error::usage(format!("the library reported an unknown leaf precision {other}"))),
        }
    }

    /// Threads that read a forest's Segments while loading: 1 (default) the calling thread only, 0 one per
    /// hardware thread. They are joined before the load returns; the model, and the error of a failed load,
    /// do not depend on it. Independent of [`Options::threads`] (scoring).
    pub fn load_threads(self, threads: usize) -> Result<Options> {
        check(unsafe { ffi::pmmlrt_options_set_load_threads(self.ptr.as_ptr(), threads) })?;
        Ok(self)
    }
}

impl Drop for Options {
    fn drop(&mut self) {
        unsafe { ffi::pmmlrt_options_release(self.ptr.as_ptr()) }
    }
}

/// A field of the model's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The PMML dataType code (1 string, 2 integer, 3 float, 4 double, 5 boolean, 6-8 date/time).
    pub data_type: i32,
    /// The PMML optype code (1 categorical, 2 ordinal, 3 continuous).
    pub op_type: i32,
    /// Valid categories; a string-typed categorical takes the index into this list in numeric batches.
    pub categories: Vec<String>,
}

/// One cell of a mixed batch (see [`Model::score_cells`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Missing,
    /// A value (not a category code).
    Number(f64),
    /// Text, parsed by the field's dataType ("5.1", "setosa").
    Text(&'a str),
}

/// The result of [`Model::score_one`].
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The predicted number (regression) or class index (classification); NaN when there is none.
    pub predicted: f64,
    /// One probability per class (empty for regression).
    pub probabilities: Vec<f64>,
    /// Every OutputField as a number, in the model's order (NaN for missing or text).
    pub outputs: Vec<f64>,
}

/// A loaded PMML model.
pub struct Model {
    ptr: NonNull<ffi::pmmlrt_model>,
    function: Function,
    inputs: Vec<Field>,
    targets: Vec<Field>,
    classes: Vec<String>,
    outputs: Vec<String>,
}

// The C ABI guarantees that a model may be used from many threads at once.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    /// Loads a PMML file with the default options.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        Self::load_with(path, None)
    }

    /// Loads a PMML file with options.
    pub fn load_with(path: impl AsRef<Path>, options: Option<&Options>) -> Result<Model> {
        let path = path.as_ref().to_str().ok_or_else(|| Error::usage("the path is not UTF-8"))?;
        let path = c_string(path)?;
        let mut p = ptr::null_mut();
        check(unsafe { ffi::pmmlrt_model_load_file(path.as_ptr(), opt(options), &mut p) })?;
        Model::wrap(p)
    }

    /// Loads a PMML document held in memory.
    pub fn from_bytes(document: &[u8], options: Option<&Options>) -> Result<Model> {
        let mut p = ptr::null_mut();
        check(unsafe { ffi::pmmlrt_model_load_memory(document.as_ptr().cast(), document.len(), opt(options), &mut p) })?;
        Model::wrap(p)
    }

    fn wrap(p: *mut ffi::pmmlrt_model) -> Result<Model> {
        let ptr = NonNull::new(p).ok_or_else(|| Error::usage("the library returned no model"))?;
        let mut m = Model {
            ptr,
            function: Function::Regression,
            inputs: vec![],
            targets: vec![],
            classes: vec![],
            outputs: vec![],
        };
        let raw = m.ptr.as_ptr() as *const ffi::pmmlrt_model;
        unsafe {
            let mut f = 0;
            check(ffi::pmmlrt_model_function(raw, &mut f))?;
            m.function = if f == ffi::PMMLRT_FUNCTION_CLASSIFICATION { Function::Classification } else { Function::Regression };
            m.inputs = fields(raw, ffi::PMMLRT_FIELDS_INPUT)?;
            m.targets = fields(raw, ffi::PMMLRT_FIELDS_TARGET)?;
            let mut n = 0;
            check(ffi::pmmlrt_model_class_count(raw, &mut n))?;
            for i in 0..n {
                let mut s = ptr::null();
                check(ffi::pmmlrt_model_class_label(raw, i, &mut s))?;
                m.classes.push(cstr(s));
            }
            check(ffi::pmmlrt_model_output_count(raw, &mut n))?;
            for i in 0..n {
                let mut s = ptr::null();
                check(ffi::pmmlrt_model_output_name(raw, i, &mut s))?;
                m.outputs.push(cstr(s));
            }
        }
        Ok(m)
    }

    fn raw(&self) -> *const ffi::pmmlrt_model {
        self.ptr.as_ptr()
    }

    /// Classification or regression.
    pub fn function(&self) -> Function {
        self.function
    }
    /// The top-level model element ("TreeModel", "MiningModel", ...).
    pub fn model_type(&self) -> Result<String> {
        let mut s = ptr::null();
        check(unsafe { ffi::pmmlrt_model_type(self.raw(), &mut s) })?;
        Ok(unsafe { cstr(s) })
    }
    /// The active input fields, in the order a matrix without column names must have.
    pub fn inputs(&self) -> &[Field] {
        &self.inputs
    }
    /// The target fields.
    pub fn targets(&self) -> &[Field] {
        &self.targets
    }
    /// Class labels (empty for regression), in the order of probabilities and class indices.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }
    /// OutputField names, in the model's order.
    pub fn output_names(&self) -> &[String] {
        &self.outputs
    }

    /// Scores a matrix of doubles (NaN = missing; category codes for string categoricals). `columns` names the
    /// matrix columns; None means the input fields in order.
    pub fn score_f64(&self, data: &[f64], rows: usize, cols: usize, layout: Layout, columns: Option<&[&str]>)
        -> Result<BatchResult> {
        check_size(data.len(), rows, cols)?;
        let names = Names::new(columns, cols)?;
        let mut out = ptr::null_mut();
        check(unsafe {
            ffi::pmmlrt_score_f64(self.raw(), data.as_ptr(), rows, cols, layout.raw(), names.ptr(), ptr::null(), &mut out)
        })?;
        BatchResult::wrap(out)
    }

    /// Scores a matrix of floats.
    pub fn score_f32(&self, data: &[f32], rows: usize, cols: usize, layout: Layout, columns: Option<&[&str]>)
        -> Result<BatchResult> {
        check_size(data.len(), rows, cols)?;
        let names = Names::new(columns, cols)?;
        let mut out = ptr::null_mut();
        check(unsafe {
            ffi::pmmlrt_score_f32(self.raw(), data.as_ptr(), rows, cols, layout.raw(), names.ptr(), ptr::null(), &mut out)
        })?;
        BatchResult::wrap(out)
    }

    /// Scores mixed cells (rows x columns.len(), row-major): text is parsed by the field's dataType.
    pub fn score_cells(&self, columns: &[&str], cells: &[Cell<'_>], options: Option<&Options>) -> Result<BatchResult> {
        let cols = columns.len();
        if cols == 0 || cells.len() % cols != 0 {
            return Err(Error::usage(format!("{} cells do not fill rows of {} columns", cells.len(), cols)));
        }
        let rows = cells.len() / cols;
        let names = Names::new(Some(columns), cols)?;
        let mut numbers = vec![f64::NAN; cells.len()];
        let mut texts: Vec<CString> = Vec::new();
        let mut strings: Vec<*const c_char> = vec![ptr::null(); cells.len()];
        for (i, c) in cells.iter().enumerate() {
            match c {
                Cell::Missing => {}
                Cell::Number(x) => numbers[i] = *x,
                Cell::Text(t) => {
                    texts.push(c_string(t)?);
                    strings[i] = texts.last().unwrap().as_ptr();
                }
            }
        }
        let mut out = ptr::null_mut();
        check(unsafe {
            ffi::pmmlrt_score_values(self.raw(), numbers.as_ptr(), strings.as_ptr(), rows, cols, ffi::PMMLRT_ROW_MAJOR,
                                     names.ptr(), opt(options), &mut out)
        })?;
        drop(texts);
        BatchResult::wrap(out)
    }

    /// Scores one record of numbers in input field order, without allocating a result handle.
    pub fn score_one(&self, inputs: &[f64]) -> Result<Prediction> {
        let mut p = Prediction {
            predicted: f64::NAN,
            probabilities: vec![f64::NAN; self.classes.len()],
            outputs: vec![f64::NAN; self.outputs.len()],
        };
        check(unsafe {
            ffi::pmmlrt_score_one(self.raw(), inputs.as_ptr(), inputs.len(), &mut p.predicted,
                                  p.probabilities.as_mut_ptr(), p.probabilities.len(), p.outputs.as_mut_ptr(),
                                  p.outputs.len())
        })?;
        Ok(p)
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { ffi::pmmlrt_model_release(self.ptr.as_ptr()) }
    }
}

fn opt(o: Option<&Options>) -> *const ffi::pmmlrt_options {
    o.map_or(ptr::null(), |o| o.ptr.as_ptr())
}

fn check_size(len: usize, rows: usize, cols: usize) -> Result<()> {
    match rows.checked_mul(cols) {
        Some(n) if n == len => Ok(()),
        _ => Err(Error::usage(format!("{len} values for a matrix of {rows} x {cols}"))),
    }
}

unsafe fn fields(m: *const ffi::pmmlrt_model, set: c_int) -> Result<Vec<Field>> {
    let mut n = 0;
    check(ffi::pmmlrt_model_field_count(m, set, &mut n))?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (mut s, mut dt, mut ot, mut k) = (ptr::null(), 0, 0, 0);
        check(ffi::pmmlrt_model_field_name(m, set, i, &mut s))?;
        check(ffi::pmmlrt_model_field_data_type(m, set, i, &mut dt))?;
        check(ffi::pmmlrt_model_field_op_type(m, set, i, &mut ot))?;
        check(ffi::pmmlrt_model_field_category_count(m, set, i, &mut k))?;
        let mut categories = Vec::with_capacity(k);
        for j in 0..k {
            let mut c = ptr::null();
            check(ffi::pmmlrt_model_field_category(m, set, i, j, &mut c))?;
            categories.push(cstr(c));
        }
        out.push(Field { name: cstr(s), data_type: dt, op_type: ot, categories });
    }
    Ok(out)
}

/// Column names as C strings, kept alive for the call.
struct Names {
    _owned: Vec<CString>,
    ptrs: Vec<*const c_char>,
    given: bool,
}

impl Names {
    fn new(columns: Option<&[&str]>, cols: usize) -> Result<Names> {
        let Some(columns) = columns else { return Ok(Names { _owned: vec![], ptrs: vec![], given: false }) };
        if columns.len() != cols {
            return Err(Error::usage(format!("{} column names for {} columns", columns.len(), cols)));
        }
        let owned = columns.iter().map(|c| c_string(c)).collect::<Result<Vec<_>>>()?;
        let mut ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        ptrs.push(ptr::null());
        Ok(Names { _owned: owned, ptrs, given: true })
    }
    fn ptr(&self) -> *const *const c_char {
        if self.given { self.ptrs.as_ptr() } else { ptr::null() }
    }
}

/// The results of a batch.
pub struct BatchResult {
    ptr: NonNull<ffi::pmmlrt_batch_result>,
    rows: usize,
    classes: usize,
}

unsafe impl Send for BatchResult {}
unsafe impl Sync for BatchResult {}

impl BatchResult {
    fn wrap(p: *mut ffi::pmmlrt_batch_result) -> Result<BatchResult> {
        let ptr = NonNull::new(p).ok_or_else(|| Error::usage("the library returned no result"))?;
        let mut r = BatchResult { ptr, rows: 0, classes: 0 };
        check(unsafe { ffi::pmmlrt_batch_result_rows(r.raw(), &mut r.rows) })?;
        check(unsafe { ffi::pmmlrt_batch_result_class_count(r.raw(), &mut r.classes) })?;
        Ok(r)
    }
    fn raw(&self) -> *const ffi::pmmlrt_batch_result {
        self.ptr.as_ptr()
    }
    /// Rows scored.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of rows that failed (when row errors are recorded).
    pub fn error_count(&self) -> Result<usize> {
        let mut n = 0;
        check(unsafe { ffi::pmmlrt_batch_result_error_count(self.raw(), &mut n) })?;
        Ok(n)
    }
    /// Predicted value per row (class index for classification; NaN for none).
    pub fn predicted(&self) -> Result<Vec<f64>> {
        let mut v = vec![0.0; self.rows];
        check(unsafe { ffi::pmmlrt_batch_result_predicted(self.raw(), v.as_mut_ptr(), v.len()) })?;
        Ok(v)
    }
    /// Predicted value per row as text (class labels for classification).
    pub fn labels(&self) -> Result<Vec<Option<String>>> {
        self.strings(|out, n| unsafe { ffi::pmmlrt_batch_result_labels(self.raw(), out, n) })
    }
    /// rows x classes probabilities in `layout` order.
    pub fn probabilities(&self, layout: Layout) -> Result<Vec<f64>> {
        let mut v = vec![0.0; self.rows * self.classes];
        check(unsafe { ffi::pmmlrt_batch_result_probabilities(self.raw(), layout.raw(), v.as_mut_ptr(), v.len()) })?;
        Ok(v)
    }
    /// An OutputField as numbers.
    pub fn output(&self, name: &str) -> Result<Vec<f64>> {
        let name = c_string(name)?;
        let mut v = vec![0.0; self.rows];
        check(unsafe { ffi::pmmlrt_batch_result_output(self.raw(), name.as_ptr(), v.as_mut_ptr(), v.len()) })?;
        Ok(v)
    }
    /// An OutputField as text (None for missing).
    pub fn output_strings(&self, name: &str) -> Result<Vec<Option<String>>> {
        let name = c_string(name)?;
        self.strings(|out, n| unsafe { ffi::pmmlrt_batch_result_output_strings(self.raw(), name.as_ptr(), out, n) })
    }
    /// The error message of each failed row (None for rows that scored).
    pub fn errors(&self) -> Result<Vec<Option<String>>> {
        self.strings(|out, n| unsafe { ffi::pmmlrt_batch_result_errors(self.raw(), out, n) })
    }
    fn strings(&self, get: impl FnOnce(*mut *const c_char, usize) -> ffi::pmmlrt_status) -> Result<Vec<Option<String>>> {
        let mut p: Vec<*const c_char> = vec![ptr::null(); self.rows];
        check(get(p.as_mut_ptr(), p.len()))?;
        Ok(p.into_iter().map(|s| if s.is_null() { None } else { Some(unsafe { cstr(s) }) }).collect())
    }
}

impl Drop for BatchResult {
    fn drop(&mut self) {
        unsafe { ffi::pmmlrt_batch_result_release(self.ptr.as_ptr()) }
    }
}
