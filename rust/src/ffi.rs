//! Raw declarations of the pmmlrt C ABI (capi/pmmlrt.h). Use the safe wrapper in the crate root instead.
#![allow(non_camel_case_types, dead_code)]

use std::os::raw::{c_char, c_int, c_void};

pub type pmmlrt_status = c_int;
pub const PMMLRT_OK: pmmlrt_status = 0;

pub const PMMLRT_ROW_MAJOR: c_int = 0;
pub const PMMLRT_COLUMN_MAJOR: c_int = 1;
pub const PMMLRT_FUNCTION_REGRESSION: c_int = 1;
pub const PMMLRT_FUNCTION_CLASSIFICATION: c_int = 2;
pub const PMMLRT_FIELDS_INPUT: c_int = 1;
pub const PMMLRT_FIELDS_TARGET: c_int = 2;
pub const PMMLRT_ROW_ERRORS_FAIL: c_int = 0;
pub const PMMLRT_ROW_ERRORS_RECORD: c_int = 1;
pub const PMMLRT_LEAF_PRECISION_EXACT: c_int = 0;
pub const PMMLRT_LEAF_PRECISION_HALF: c_int = 1;
pub const PMMLRT_ABI_VERSION: c_int = 1;

#[repr(C)]
pub struct pmmlrt_model {
    _private: [u8; 0],
}
#[repr(C)]
pub struct pmmlrt_options {
    _private: [u8; 0],
}
#[repr(C)]
pub struct pmmlrt_batch_result {
    _private: [u8; 0],
}

extern "C" {
    pub fn pmmlrt_version() -> *const c_char;
    pub fn pmmlrt_version_major() -> c_int;
    pub fn pmmlrt_version_minor() -> c_int;
    pub fn pmmlrt_version_patch() -> c_int;
    pub fn pmmlrt_abi_version() -> c_int;
    pub fn pmmlrt_last_error() -> *const c_char;
    pub fn pmmlrt_last_status() -> pmmlrt_status;
    pub fn pmmlrt_status_name(status: pmmlrt_status) -> *const c_char;

    pub fn pmmlrt_options_create(out: *mut *mut pmmlrt_options) -> pmmlrt_status;
    pub fn pmmlrt_options_release(options: *mut pmmlrt_options);
    pub fn pmmlrt_options_set_limit(options: *mut pmmlrt_options, which: c_int, value: u64) -> pmmlrt_status;
    pub fn pmmlrt_options_get_limit(options: *const pmmlrt_options, which: c_int, value: *mut u64) -> pmmlrt_status;
    pub fn pmmlrt_options_set_expected_sha256(options: *mut pmmlrt_options, hex: *const c_char) -> pmmlrt_status;
    pub fn pmmlrt_options_set_row_errors(options: *mut pmmlrt_options, policy: c_int) -> pmmlrt_status;
    pub fn pmmlrt_options_set_threads(options: *mut pmmlrt_options, threads: usize) -> pmmlrt_status;
    pub fn pmmlrt_options_set_leaf_precision(options: *mut pmmlrt_options, precision: c_int) -> pmmlrt_status;
    pub fn pmmlrt_options_get_leaf_precision(options: *const pmmlrt_options, precision: *mut c_int) -> pmmlrt_status;
    pub fn pmmlrt_options_set_load_threads(options: *mut pmmlrt_options, threads: usize) -> pmmlrt_status;

    pub fn pmmlrt_model_load_file(
        path: *const c_char,
        options: *const pmmlrt_options,
        out: *mut *mut pmmlrt_model,
    ) -> pmmlrt_status;
    pub fn pmmlrt_model_load_memory(
        data: *const c_void,
        size: usize,
        options: *const pmmlrt_options,
        out: *mut *mut pmmlrt_model,
    ) -> pmmlrt_status;
    pub fn pmmlrt_model_release(model: *mut pmmlrt_model);

    pub fn pmmlrt_model_function(model: *const pmmlrt_model, out: *mut c_int) -> pmmlrt_status;
    pub fn pmmlrt_model_type(model: *const pmmlrt_model, out: *mut *const c_char) -> pmmlrt_status;
    pub fn pmmlrt_model_pmml_version(model: *const pmmlrt_model, out: *mut *const c_char) -> pmmlrt_status;
    pub fn pmmlrt_model_field_count(model: *const pmmlrt_model, set: c_int, count: *mut usize) -> pmmlrt_status;
    pub fn pmmlrt_model_field_name(
        model: *const pmmlrt_model,
        set: c_int,
        index: usize,
        name: *mut *const c_char,
    ) -> pmmlrt_status;
    pub fn pmmlrt_model_field_index(
        model: *const pmmlrt_model,
        set: c_int,
        name: *const c_char,
        index: *mut usize,
    ) -> pmmlrt_status;
    pub fn pmmlrt_model_field_data_type(
        model: *const pmmlrt_model,
        set: c_int,
        index: usize,
        out: *mut c_int,
    ) -> pmmlrt_status;
    pub fn pmmlrt_model_field_op_type(
        model: *const pmmlrt_model,
        set: c_int,
        index: usize,
        out: *mut c_int,
    ) -> pmmlrt_status;
    pub fn pmmlrt_model_field_category_count(
        model: *const pmmlrt_model,
        set: c_int,
        index: usize,
        count: *mut usize,
    ) -> pmmlrt_status;
    pub fn pmmlrt_model_field_category(
        model: *const pmmlrt_model,
        set: c_int,
        index: usize,
        category_index: usize,
        out: *mut *const c_char,
    ) -> pmmlrt_status;
    pub fn pmmlrt_model_class_count(model: *const pmmlrt_model, count: *mut usize) -> pmmlrt_status;
    pub fn pmmlrt_model_class_label(model: *const pmmlrt_model, index: usize, out: *mut *const c_char)
        -> pmmlrt_status;
    pub fn pmmlrt_model_output_count(model: *const pmmlrt_model, count: *mut usize) -> pmmlrt_status;
    pub fn pmmlrt_model_output_name(model: *const pmmlrt_model, index: usize, out: *mut *const c_char)
        -> pmmlrt_status;
    pub fn pmmlrt_model_output_index(model: *const pmmlrt_model, name: *const c_char, index: *mut usize)
        -> pmmlrt_status;
    pub fn pmmlrt_model_output_feature(model: *const pmmlrt_model, index: usize, out: *mut *const c_char)
        -> pmmlrt_status;
    pub fn pmmlrt_model_output_data_type(model: *const pmmlrt_model, index: usize, out: *mut c_int)
        -> pmmlrt_status;
    pub fn pmmlrt_model_output_is_final(model: *const pmmlrt_model, index: usize, out: *mut c_int)
        -> pmmlrt_status;

    pub fn pmmlrt_score_f64(
        model: *const pmmlrt_model,
        data: *const f64,
        rows: usize,
        cols: usize,
        layout: c_int,
        column_names: *const *const c_char,
        options: *const pmmlrt_options,
        out: *mut *mut pmmlrt_batch_result,
    ) -> pmmlrt_status;
    pub fn pmmlrt_score_f32(
        model: *const pmmlrt_model,
        data: *const f32,
        rows: usize,
        cols: usize,
        layout: c_int,
        column_names: *const *const c_char,
        options: *const pmmlrt_options,
        out: *mut *mut pmmlrt_batch_result,
    ) -> pmmlrt_status;
    pub fn pmmlrt_score_values(
        model: *const pmmlrt_model,
        numbers: *const f64,
        strings: *const *const c_char,
        rows: usize,
        cols: usize,
        layout: c_int,
        column_names: *const *const c_char,
        options: *const pmmlrt_options,
        out: *mut *mut pmmlrt_batch_result,
    ) -> pmmlrt_status;
    pub fn pmmlrt_score_one(
        model: *const pmmlrt_model,
        inputs: *const f64,
        n_inputs: usize,
        predicted: *mut f64,
        probabilities: *mut f64,
        n_probabilities: usize,
        outputs: *mut f64,
        n_outputs: usize,
    ) -> pmmlrt_status;

    pub fn pmmlrt_batch_result_release(result: *mut pmmlrt_batch_result);
    pub fn pmmlrt_batch_result_rows(result: *const pmmlrt_batch_result, rows: *mut usize) -> pmmlrt_status;
    pub fn pmmlrt_batch_result_class_count(result: *const pmmlrt_batch_result, count: *mut usize) -> pmmlrt_status;
    pub fn pmmlrt_batch_result_error_count(result: *const pmmlrt_batch_result, count: *mut usize) -> pmmlrt_status;
    pub fn pmmlrt_batch_result_predicted(result: *const pmmlrt_batch_result, out: *mut f64, capacity: usize)
        -> pmmlrt_status;
    pub fn pmmlrt_batch_result_labels(
        result: *const pmmlrt_batch_result,
        out: *mut *const c_char,
        capacity: usize,
    ) -> pmmlrt_status;
    pub fn pmmlrt_batch_result_probabilities(
        result: *const pmmlrt_batch_result,
        layout: c_int,
        out: *mut f64,
        capacity: usize,
    ) -> pmmlrt_status;
    pub fn pmmlrt_batch_result_output(
        result: *const pmmlrt_batch_result,
        name: *const c_char,
        out: *mut f64,
        capacity: usize,
    ) -> pmmlrt_status;
    pub fn pmmlrt_batch_result_output_strings(
        result: *const pmmlrt_batch_result,
        name: *const c_char,
        out: *mut *const c_char,
        capacity: usize,
    ) -> pmmlrt_status;
    pub fn pmmlrt_batch_result_errors(
        result: *const pmmlrt_batch_result,
        out: *mut *const c_char,
        capacity: usize,
    ) -> pmmlrt_status;
}
