/*
 * pmmlrt._fast: the single-record path of Model.predict_one / predict_proba_one without ctypes.
 *
 * ctypes spends about 2 µs converting the eight arguments of pmmlrt_score_one, more than the call itself.
 * This module calls the function through the address ctypes found (so it neither links against libpmmlrt_c
 * nor needs pmmlrt.h: the prototype below is the one in capi/pmmlrt.h, which the ABI guarantees), reading
 * the record straight into a C array.
 *
 * It only handles the common, unambiguous cases: a list or tuple of float/int, or a 1-D buffer of native
 * doubles (a NumPy float64 row, array('d'), memoryview), with the model open and of the expected length. For
 * anything else it returns NotImplemented and Model falls back to the ctypes path, which raises the errors
 * (wrong length, non-numeric values, closed model) exactly as it always has. Errors of the C call itself
 * are raised by the status callback Model passes in (the same function the ctypes path uses).
 *
 * Thread safety: the GIL is released during the C call, as ctypes does; all buffers live on the stack (or
 * come from the heap per call for wide models), so any number of threads may score one model at once, which
 * pmmlrt.h allows.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

/* pmmlrt_score_one from capi/pmmlrt.h (pmmlrt_status is an int-sized enum). */
typedef int (*score_one_fn)(const void* model, const double* inputs, size_t n_inputs, double* predicted,
                            double* probabilities, size_t n_probabilities, double* outputs, size_t n_outputs);

/* Records and distributions up to this size live on the stack; wider ones take a heap block per call. */
#define STACK_DOUBLES 128

typedef struct {
    PyObject_HEAD
    score_one_fn score_one;
    const void* model;     /* NULL once closed */
    Py_ssize_t n_inputs;
    PyObject* labels;      /* tuple of class labels (classification), NULL for regression */
    PyObject* raise_status; /* callable(status): raises the error of a failed call */
} Scorer;

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject* Py_NewRef(PyObject* o) {
    Py_INCREF(o);
    return o;
}
#endif

/* A double buffer of n elements, on the stack when small. */
typedef struct {
    double stack[STACK_DOUBLES];
    double* data;
} Doubles;

static int doubles_alloc(Doubles* d, Py_ssize_t n) {
    d->data = n <= STACK_DOUBLES ? d->stack : PyMem_Malloc((size_t)n * sizeof(double));
    if (!d->data) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void doubles_free(Doubles* d) {
    if (d->data && d->data != d->stack) PyMem_Free(d->data);
    d->data = NULL;
}

/* Outcome of reading a record: read, left to the ctypes path, or failed with an exception set. */
enum read_result { READ_OK, READ_UNHANDLED, READ_ERROR };

/* Items of a list or tuple: only types whose conversion runs no Python code (so the sequence cannot change
 * under us) and gives what array('d', x) gives; others are left to the ctypes path. */
static enum read_result read_sequence(PyObject* seq, double* out, Py_ssize_t n) {
    PyObject** items = PySequence_Fast_ITEMS(seq);
    /* The float subclass met last (numpy.float64, from list(row)): its PyFloat_Check walks the MRO. */
    PyTypeObject* float_subtype = &PyFloat_Type;
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* v = items[i];
        if (PyFloat_CheckExact(v) || Py_TYPE(v) == float_subtype) {
            out[i] = PyFloat_AS_DOUBLE(v);
        } else if (PyFloat_Check(v)) {
            float_subtype = Py_TYPE(v);
            out[i] = PyFloat_AS_DOUBLE(v);
        } else if (PyLong_CheckExact(v) || PyBool_Check(v)) {
            out[i] = PyLong_AsDouble(v);
            if (out[i] == -1.0 && PyErr_Occurred()) {
                PyErr_Clear(); /* too large: the ctypes path raises the OverflowError */
                return READ_UNHANDLED;
            }
        } else {
            return READ_UNHANDLED;
        }
    }
    return READ_OK;
}

/* "d" with at most a byte-order prefix meaning this machine's order ("=d": NumPy's unaligned arrays). */
static int is_native_double(const char* format) {
    if (!format) return 0;
    const unsigned one = 1;
    const char native = *(const unsigned char*)&one ? '<' : '>';
    if (*format == '@' || *format == '=' || *format == native) ++format;
    return strcmp(format, "d") == 0;
}

/* A 1-D buffer of native doubles of length n, else nothing. */
static int get_double_row(PyObject* x, Py_ssize_t n, Py_buffer* view) {
    if (!PyObject_CheckBuffer(x)) return 0;
    if (PyObject_GetBuffer(x, view, PyBUF_RECORDS_RO) != 0) {
        PyErr_Clear();
        return 0;
    }
    if (view->ndim == 1 && view->shape[0] == n && is_native_double(view->format)) return 1;
    PyBuffer_Release(view);
    return 0;
}

/* The record as n doubles in *inputs: either inside `view` (a contiguous row of doubles is read in place,
 * as the ctypes path does for a C-contiguous float64 array) or in `copy`. With *has_view set, the caller
 * releases `view`; the caller frees `copy` in any case. */
static enum read_result read_record(PyObject* x, Py_ssize_t n, Doubles* copy, Py_buffer* view, int* has_view,
                                    const double** inputs) {
    *has_view = 0;
    if (PyList_CheckExact(x) || PyTuple_CheckExact(x)) {
        if (PySequence_Fast_GET_SIZE(x) != n) return READ_UNHANDLED;
        if (doubles_alloc(copy, n) != 0) return READ_ERROR;
        *inputs = copy->data;
        return read_sequence(x, copy->data, n);
    }
    if (!get_double_row(x, n, view)) return READ_UNHANDLED;
    *has_view = 1;
    const char* base = view->buf;
    Py_ssize_t stride = view->strides[0];
    if (stride == (Py_ssize_t)sizeof(double) && (uintptr_t)base % sizeof(double) == 0) {
        *inputs = (const double*)base;
        return READ_OK;
    }
    if (doubles_alloc(copy, n) != 0) return READ_ERROR;
    for (Py_ssize_t i = 0; i < n; ++i) memcpy(&copy->data[i], base + i * stride, sizeof(double));
    *inputs = copy->data;
    return READ_OK;
}

/* Scores x. Returns 1 when scored (results in *predicted, probabilities[0..k)), 0 when the ctypes path
 * must take the call, -1 with an exception set. */
static int score(Scorer* self, PyObject* x, double* predicted, double* probabilities, Py_ssize_t k) {
    if (!self->model) return 0;
    Doubles copy;
    copy.data = NULL; /* not an initializer: that would zero the whole stack block */
    Py_buffer view;
    int has_view;
    const double* inputs;
    enum read_result read = read_record(x, self->n_inputs, &copy, &view, &has_view, &inputs);
    if (read != READ_OK) {
        if (has_view) PyBuffer_Release(&view);
        doubles_free(&copy);
        return read == READ_ERROR ? -1 : 0;
    }
    *predicted = NAN;
    for (Py_ssize_t c = 0; c < k; ++c) probabilities[c] = NAN;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = self->score_one(self->model, inputs, (size_t)self->n_inputs, predicted, k ? probabilities : NULL,
                             (size_t)k, NULL, 0);
    Py_END_ALLOW_THREADS
    if (has_view) PyBuffer_Release(&view);
    doubles_free(&copy);
    if (status != 0) {
        /* pmmlrt_last_error() is per thread and nothing else ran on this one: the callback reads our error. */
        PyObject* r = PyObject_CallFunction(self->raise_status, "i", status);
        if (r) {
            Py_DECREF(r);
            PyErr_Format(PyExc_SystemError, "pmmlrt: status %d did not raise", status);
        }
        return -1;
    }
    return 1;
}

static PyObject* Scorer_predict_one(Scorer* self, PyObject* x) {
    double predicted;
    int scored = score(self, x, &predicted, NULL, 0);
    if (scored <= 0) return scored < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    if (isnan(predicted)) Py_RETURN_NONE;
    if (!self->labels) return PyFloat_FromDouble(predicted);
    /* Range first: converting an out-of-range double to an integer is undefined. */
    if (!(predicted >= 0 && predicted < (double)PyTuple_GET_SIZE(self->labels)) || predicted != floor(predicted)) {
        return Py_NewRef(Py_NotImplemented); /* not a class index: let the ctypes path decide */
    }
    return Py_NewRef(PyTuple_GET_ITEM(self->labels, (Py_ssize_t)predicted));
}

static PyObject* Scorer_predict_proba_one(Scorer* self, PyObject* x) {
    if (!self->labels) return Py_NewRef(Py_NotImplemented); /* regression: the ctypes path raises */
    Py_ssize_t k = PyTuple_GET_SIZE(self->labels);
    Doubles probabilities;
    if (doubles_alloc(&probabilities, k) != 0) return NULL;
    double predicted;
    int scored = score(self, x, &predicted, probabilities.data, k);
    PyObject* result = NULL;
    if (scored == 0) {
        result = Py_NewRef(Py_NotImplemented);
    } else if (scored > 0 && (result = PyTuple_New(k)) != NULL) {
        for (Py_ssize_t c = 0; c < k; ++c) {
            PyObject* p = PyFloat_FromDouble(probabilities.data[c]);
            if (!p) {
                Py_CLEAR(result);
                break;
            }
            PyTuple_SET_ITEM(result, c, p);
        }
    }
    doubles_free(&probabilities);
    return result;
}

static PyObject* Scorer_close(Scorer* self, PyObject* Py_UNUSED(ignored)) {
    self->model = NULL;
    Py_RETURN_NONE;
}

static int Scorer_init(Scorer* self, PyObject* args, PyObject* kwargs) {
    static char* keywords[] = {"score_one", "model", "n_inputs", "labels", "raise_status", NULL};
    unsigned long long function, model;
    Py_ssize_t n_inputs;
    PyObject *labels, *raise_status;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "KKnOO:Scorer", keywords, &function, &model, &n_inputs,
                                     &labels, &raise_status)) {
        return -1;
    }
    if (!function || !model || n_inputs < 0) {
        PyErr_SetString(PyExc_ValueError, "Scorer: null function or model, or negative n_inputs");
        return -1;
    }
    if (labels != Py_None && !PyTuple_Check(labels)) {
        PyErr_SetString(PyExc_TypeError, "Scorer: labels must be a tuple or None");
        return -1;
    }
    if (!PyCallable_Check(raise_status)) {
        PyErr_SetString(PyExc_TypeError, "Scorer: raise_status must be callable");
        return -1;
    }
    self->score_one = (score_one_fn)(uintptr_t)function;
    self->model = (const void*)(uintptr_t)model;
    self->n_inputs = n_inputs;
    Py_XSETREF(self->labels, labels == Py_None ? NULL : Py_NewRef(labels));
    Py_XSETREF(self->raise_status, Py_NewRef(raise_status));
    return 0;
}

static void Scorer_dealloc(Scorer* self) {
    Py_XDECREF(self->labels);
    Py_XDECREF(self->raise_status);
    Py_TYPE(self)->tp_free((PyObject*)self);
}

static PyMethodDef Scorer_methods[] = {
    {"predict_one", (PyCFunction)Scorer_predict_one, METH_O,
     "predict_one(x): the label / value / None, or NotImplemented when the ctypes path must take x."},
    {"predict_proba_one", (PyCFunction)Scorer_predict_proba_one, METH_O,
     "predict_proba_one(x): the probabilities as a tuple, or NotImplemented (as predict_one)."},
    {"close", (PyCFunction)Scorer_close, METH_NOARGS, "Forgets the model: later calls return NotImplemented."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScorerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pmmlrt._fast.Scorer",
    .tp_doc = "Scorer(score_one, model, n_inputs, labels, raise_status): pmmlrt_score_one for one model, by "
              "addresses (ints). labels: the class labels (tuple) or None for regression.",
    .tp_basicsize = sizeof(Scorer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scorer_init,
    .tp_dealloc = (destructor)Scorer_dealloc,
    .tp_methods = Scorer_methods,
};

static struct PyModuleDef fast_module = {
    PyModuleDef_HEAD_INIT, "pmmlrt._fast", "Single-record scoring without ctypes (internal).", -1,
    NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fast(void) {
    if (PyType_Ready(&ScorerType) < 0) return NULL;
    PyObject* module = PyModule_Create(&fast_module);
    if (!module) return NULL;
    if (PyModule_AddObject(module, "Scorer", Py_NewRef((PyObject*)&ScorerType)) < 0) {
        Py_DECREF(&ScorerType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
