/*
 * What optimizer/_timing.c and optimizer/_scan.c share: reading Python integers out of the
 * plan's lists, tuples and (lazy) matrices, and the window rule (timing.Plan.window_at /
 * Plan.start_at) in one place for both.  Included by each (one translation unit per module).
 */
#ifndef CAREPATH_PYINTS_H
#define CAREPATH_PYINTS_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef long long i64;

static inline int to_i64(PyObject *o, i64 *out) {
    *out = PyLong_AsLongLong(o);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static inline PyObject *item_at(PyObject *seq, Py_ssize_t i) { /* new reference */
    if (PyList_CheckExact(seq) && i >= 0 && i < PyList_GET_SIZE(seq)) {
        PyObject *o = PyList_GET_ITEM(seq, i);
        Py_INCREF(o);
        return o;
    }
    if (PyTuple_CheckExact(seq) && i >= 0 && i < PyTuple_GET_SIZE(seq)) {
        PyObject *o = PyTuple_GET_ITEM(seq, i);
        Py_INCREF(o);
        return o;
    }
    PyObject *key = PyLong_FromSsize_t(i);
    if (key == NULL) return NULL;
    PyObject *o = PyObject_GetItem(seq, key);
    Py_DECREF(key);
    return o;
}

static inline int int_at(PyObject *seq, Py_ssize_t i, i64 *out) {
    PyObject *o = item_at(seq, i);
    if (o == NULL) return -1;
    int rc = to_i64(o, out);
    Py_DECREF(o);
    return rc;
}

static inline int cell(PyObject *m, i64 a, i64 b, i64 *out) {
    PyObject *row = item_at(m, (Py_ssize_t)a);
    if (row == NULL) return -1;
    int rc = int_at(row, (Py_ssize_t)b, out);
    Py_DECREF(row);
    return rc;
}

static inline int int_attr(PyObject *o, PyObject *name, i64 *out) {
    PyObject *v = PyObject_GetAttr(o, name);
    if (v == NULL) return -1;
    int rc = to_i64(v, out);
    Py_DECREF(v);
    return rc;
}

/* 1 if o.name is None, 0 if not, -1 on error. */
static inline int attr_is_none(PyObject *o, PyObject *name) {
    PyObject *v = PyObject_GetAttr(o, name);
    if (v == NULL) return -1;
    int none = v == Py_None;
    Py_DECREF(v);
    return none;
}

static inline i64 max2(i64 a, i64 b) { return a > b ? a : b; }
static inline i64 min2(i64 a, i64 b) { return a < b ? a : b; }

/* Plan.window_at / Plan.start_at.  Returns 1 with *out set, 0 for None, -1 on error. */
static inline int window_at(PyObject *windows, i64 t, i64 *out) {
    Py_ssize_t n = PyList_Check(windows) ? PyList_GET_SIZE(windows) : PySequence_Size(windows);
    if (n < 0) return -1;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *w = item_at(windows, k);
        if (w == NULL) return -1;
        i64 a, b;
        int rc = (int_at(w, 0, &a) < 0 || int_at(w, 1, &b) < 0) ? -1 : 0;
        Py_DECREF(w);
        if (rc < 0) return -1;
        if (t <= b) {
            *out = t > a ? t : a;
            return 1;
        }
    }
    return 0;
}

static inline int start_at(PyObject *windows, PyObject *fixed, PyObject *vi_obj, i64 arrival, i64 *out) {
    PyObject *f = PyDict_GetItemWithError(fixed, vi_obj);
    if (f == NULL && PyErr_Occurred()) return -1;
    if (f != NULL && f != Py_None) {
        i64 fv, s;
        if (to_i64(f, &fv) < 0) return -1;
        if (fv < arrival) return 0;
        int rc = window_at(windows, fv, &s);
        if (rc <= 0) return rc;
        if (s != fv) return 0;
        *out = fv;
        return 1;
    }
    return window_at(windows, arrival, out);
}

#endif
