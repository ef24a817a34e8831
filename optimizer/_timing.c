/*
 * The forward pass of a route, compiled (optimizer.timing.Plan._forward, for routes without rides
 * or loads).
 *
 * Why it exists: after the route scan went to C (optimizer/_scan.c), the forward pass was the
 * largest part of an LNS round on the Kielce demo day: every insertion timed from a route's
 * kept pass, every kept pass rebuilt after a change, every re-timing of linked visits.  Most
 * routes carry no ride and no load (carers, assistants, handymen), and for them the pass is a
 * few integer rules per stop: travel, the shift's breaks (taken on the way or on arrival, the
 * first deferred past the first visit when it can wait), windows and fixed starts, floors.
 *
 * forward(plan, ctx, stops, fixed, later, defer_first, record, resume)
 *   -> what Plan._forward returns (a Timing, None, or a kept pass's PickupLater), or
 *      NotImplemented (before any side effect) when a stop is a ride's or carries a load, or
 *      the kept pass it resumes from had any: then the Python pass runs.
 * ctx: (matrix, durations, shift start, start place, end place, breaks as (earliest, latest,
 *       duration) triples, the shift's end limit, one byte per visit: 1 if it may be timed here,
 *       the visits' windows as (start, end) lists, entry places, exit places)
 *
 * The rules are Plan._forward's, line for line, with the same side effects on the plan
 * (``_deferred``), the summary being recorded (``states``, ``starts``, ``breaks``) and the
 * resume (``converged``).  tests/optimizer/test_incremental.py holds both to each other.
 */
#include "_pyints.h"

static PyObject *Timing = NULL, *PassState = NULL, *PickupLater = NULL;
static PyObject *s_summary, *s_k0, *s_conv_from, *s_offset, *s_converged, *s_states, *s_starts, *s_breaks,
    *s_deferred, *s_load, *s_timing, *s_later, *s_t, *s_loc, *s_travel, *s_bi, *s_departure, *s_on_board,
    *s_boarded, *s_end, *s__deferred;

/* Growable arrays of the pass. */
typedef struct {
    i64 *v;
    Py_ssize_t n, cap;
} Vec;

static int vec_push(Vec *x, i64 v) {
    if (x->n == x->cap) {
        Py_ssize_t cap = x->cap ? 2 * x->cap : 16;
        i64 *p = PyMem_Realloc(x->v, sizeof(i64) * cap);
        if (p == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        x->v = p;
        x->cap = cap;
    }
    x->v[x->n++] = v;
    return 0;
}

static PyObject *int_list(const Vec *x) {
    PyObject *out = PyList_New(x->n);
    if (out == NULL) return NULL;
    for (Py_ssize_t k = 0; k < x->n; k++) {
        PyObject *o = PyLong_FromLongLong(x->v[k]);
        if (o == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, o);
    }
    return out;
}

/* Breaks: starts in b, ends in e. */
static PyObject *break_list(const Vec *b, const Vec *e) {
    PyObject *out = PyList_New(b->n);
    if (out == NULL) return NULL;
    for (Py_ssize_t k = 0; k < b->n; k++) {
        PyObject *o = Py_BuildValue("(LL)", b->v[k], e->v[k]);
        if (o == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, k, o);
    }
    return out;
}

/* record.starts / record.breaks as the pass has them now (Plan._forward shares its lists). */
static int record_lists(PyObject *record, const Vec *starts, const Vec *bs, const Vec *be, PyObject **starts_out,
                        PyObject **breaks_out) {
    PyObject *sl = int_list(starts), *bl = NULL;
    if (sl == NULL) return -1;
    if ((bl = break_list(bs, be)) == NULL) {
        Py_DECREF(sl);
        return -1;
    }
    if (record != Py_None) {
        if (PyObject_SetAttr(record, s_starts, sl) < 0 || PyObject_SetAttr(record, s_breaks, bl) < 0) {
            Py_DECREF(sl);
            Py_DECREF(bl);
            return -1;
        }
    }
    if (starts_out) *starts_out = sl; else Py_DECREF(sl);
    if (breaks_out) *breaks_out = bl; else Py_DECREF(bl);
    return 0;
}

/* record.states.append(PassState(t, loc, travel, bi, departure, None, None, None)): a pass timed
 * here has no load and nobody on board. */
static PyObject *copy_or_none(PyObject *d) { /* dict(d) if d else None */
    if (PyDict_GET_SIZE(d) == 0) {
        Py_INCREF(Py_None);
        return Py_None;
    }
    return PyDict_Copy(d);
}

/* dict(o.name) if o.name else {} */
static PyObject *copied_dict(PyObject *o, PyObject *name) {
    PyObject *v = PyObject_GetAttr(o, name);
    if (v == NULL) return NULL;
    PyObject *out = (v != Py_None && PyDict_Check(v)) ? PyDict_Copy(v) : PyDict_New();
    Py_DECREF(v);
    return out;
}

static int append_state(PyObject *states, i64 t, i64 loc, i64 travel, i64 bi, int has_departure, i64 departure,
                        PyObject *on_board, PyObject *boarded) {
    PyObject *dep = has_departure ? PyLong_FromLongLong(departure) : (Py_INCREF(Py_None), Py_None);
    if (dep == NULL) return -1;
    PyObject *ob = copy_or_none(on_board), *bd = ob == NULL ? NULL : copy_or_none(boarded);
    if (bd == NULL) {
        Py_DECREF(dep);
        Py_XDECREF(ob);
        return -1;
    }
    PyObject *ps = PyObject_CallFunction(PassState, "LLLLOOOO", t, loc, travel, bi, dep, Py_None, ob, bd);
    Py_DECREF(dep);
    Py_DECREF(ob);
    Py_DECREF(bd);
    if (ps == NULL) return -1;
    int rc = PyList_Append(states, ps);
    Py_DECREF(ps);
    return rc;
}

/* A ride's stop (ride: Plan.ride_at's (pickup, drop-off, load, max ride)): a pickup boards its
 * passengers (None past the car's capacity), a drop-off lets them off (None without its pickup,
 * a PickupLater in *result when the ride took too long).  1: go on; 0: None; 2: *result. */
static int board(PyObject *ride, PyObject *vi_obj, i64 vi, i64 start, i64 end, PyObject *on_board, PyObject *boarded,
                 PyObject *capacity, PyObject **result) {
    if (!PyTuple_Check(ride) || PyTuple_GET_SIZE(ride) != 4 || !PyDict_Check(PyTuple_GET_ITEM(ride, 2))) {
        PyErr_SetString(PyExc_TypeError, "_timing: a ride is not (pickup, drop-off, load, max ride)");
        return -1;
    }
    PyObject *pickup_obj = PyTuple_GET_ITEM(ride, 0), *load = PyTuple_GET_ITEM(ride, 2),
             *max_ride_obj = PyTuple_GET_ITEM(ride, 3);
    i64 pickup;
    if (to_i64(pickup_obj, &pickup) < 0) return -1;
    PyObject *key, *q;
    Py_ssize_t pos = 0;
    if (vi == pickup) {
        PyObject *span = Py_BuildValue("(LL)", start, end);
        if (span == NULL) return -1;
        int rc = PyDict_SetItem(boarded, vi_obj, span);
        Py_DECREF(span);
        if (rc < 0) return -1;
        while (PyDict_Next(load, &pos, &key, &q)) {
            i64 now = 0, add, cap = 0;
            PyObject *cur = PyDict_GetItemWithError(on_board, key);
            if (cur == NULL && PyErr_Occurred()) return -1;
            if (cur != NULL && to_i64(cur, &now) < 0) return -1;
            if (to_i64(q, &add) < 0) return -1;
            PyObject *n = PyLong_FromLongLong(now + add);
            if (n == NULL) return -1;
            rc = PyDict_SetItem(on_board, key, n);
            Py_DECREF(n);
            if (rc < 0) return -1;
            PyObject *c = PyDict_GetItemWithError(capacity, key);
            if (c == NULL && PyErr_Occurred()) return -1;
            if (c != NULL && to_i64(c, &cap) < 0) return -1;
            if (now + add > cap) return 0;
        }
        return 1;
    }
    PyObject *span = PyDict_GetItemWithError(boarded, pickup_obj);
    if (span == NULL) return PyErr_Occurred() ? -1 : 0; /* a drop-off before (or without) its pickup */
    i64 p_start, p_end;
    Py_INCREF(span);
    int rc = (int_at(span, 0, &p_start) < 0 || int_at(span, 1, &p_end) < 0) ? -1 : 0;
    Py_DECREF(span);
    if (rc < 0 || PyDict_DelItem(boarded, pickup_obj) < 0) return -1;
    while (PyDict_Next(load, &pos, &key, &q)) {
        i64 now, sub;
        PyObject *cur = PyDict_GetItemWithError(on_board, key);
        if (cur == NULL) {
            if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, key);
            return -1;
        }
        if (to_i64(cur, &now) < 0 || to_i64(q, &sub) < 0) return -1;
        PyObject *n = PyLong_FromLongLong(now - sub);
        if (n == NULL) return -1;
        rc = PyDict_SetItem(on_board, key, n);
        Py_DECREF(n);
        if (rc < 0) return -1;
    }
    if (max_ride_obj != Py_None) {
        i64 max_ride;
        if (to_i64(max_ride_obj, &max_ride) < 0) return -1;
        if (start - p_end > max_ride) {
            *result = PyObject_CallFunction(PickupLater, "OL", pickup_obj, p_start + (start - p_end - max_ride));
            return *result == NULL ? -1 : 2;
        }
    }
    return 1;
}

static PyObject *forward(PyObject *self, PyObject *args) {
    PyObject *plan, *ctx, *stops, *fixed, *later, *record, *resume;
    int defer_first;
    if (!PyArg_ParseTuple(args, "OO!O!O!OpOO", &plan, &PyTuple_Type, &ctx, &PyList_Type, &stops, &PyDict_Type,
                          &fixed, &later, &defer_first, &record, &resume))
        return NULL;
    (void)self;
    if (Timing == NULL || PassState == NULL || PickupLater == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_timing.configure was not called");
        return NULL;
    }
    if (PyTuple_GET_SIZE(ctx) != 13) {
        PyErr_SetString(PyExc_TypeError, "_timing: ctx is not the 13-tuple Plan._timing_ctx makes");
        return NULL;
    }
    PyObject *capacity = PyTuple_GET_ITEM(ctx, 11), *ride_at = PyTuple_GET_ITEM(ctx, 12);
    PyObject *matrix = PyTuple_GET_ITEM(ctx, 0), *durations = PyTuple_GET_ITEM(ctx, 1),
             *rules = PyTuple_GET_ITEM(ctx, 5), *timed_here = PyTuple_GET_ITEM(ctx, 7),
             *windows = PyTuple_GET_ITEM(ctx, 8), *loc_in = PyTuple_GET_ITEM(ctx, 9), *loc_out = PyTuple_GET_ITEM(ctx, 10);
    i64 shift_start, start_loc, end_loc, end_limit;
    if (to_i64(PyTuple_GET_ITEM(ctx, 2), &shift_start) < 0 || to_i64(PyTuple_GET_ITEM(ctx, 3), &start_loc) < 0
        || to_i64(PyTuple_GET_ITEM(ctx, 4), &end_loc) < 0 || to_i64(PyTuple_GET_ITEM(ctx, 6), &end_limit) < 0)
        return NULL;
    if (!PyBytes_Check(timed_here) || !PyTuple_Check(rules) || !PyDict_Check(ride_at)) {
        PyErr_SetString(PyExc_TypeError, "_timing: ctx has the wrong types");
        return NULL;
    }
    if (!PyDict_Check(capacity)) Py_RETURN_NOTIMPLEMENTED; /* a car's capacity as another mapping: Python's */
    if (record != Py_None && resume != Py_None) Py_RETURN_NOTIMPLEMENTED; /* (no caller does both) */
    const char *here = PyBytes_AS_STRING(timed_here);
    Py_ssize_t n_visits = PyBytes_GET_SIZE(timed_here);
    Py_ssize_t n = PyList_GET_SIZE(stops);
    if (n == 0) Py_RETURN_NOTIMPLEMENTED;
    /* What this pass covers, checked before anything changes. */
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *st = PyList_GET_ITEM(stops, k);
        if (!PyTuple_Check(st) || PyTuple_GET_SIZE(st) < 1) {
            PyErr_SetString(PyExc_TypeError, "_timing: a stop is not a (visit, copy) tuple");
            return NULL;
        }
        i64 vi;
        if (to_i64(PyTuple_GET_ITEM(st, 0), &vi) < 0) return NULL;
        if (vi < 0 || vi >= n_visits) {
            PyErr_SetString(PyExc_IndexError, "_timing: a stop's visit is not in the problem");
            return NULL;
        }
        if (!here[vi]) Py_RETURN_NOTIMPLEMENTED;
        PyObject *ride = PyDict_GetItemWithError(ride_at, PyTuple_GET_ITEM(st, 0));
        if (ride == NULL && PyErr_Occurred()) return NULL;
        if (ride != NULL && (!PyTuple_Check(ride) || PyTuple_GET_SIZE(ride) != 4 || !PyDict_Check(PyTuple_GET_ITEM(ride, 2))))
            Py_RETURN_NOTIMPLEMENTED; /* a ride's load as another mapping: Python's */
    }
    Py_ssize_t nb = PyTuple_GET_SIZE(rules);
    i64 *r_earliest = NULL, *r_latest = NULL, *r_duration = NULL;
    Vec starts = {0}, bs = {0}, be = {0};
    PyObject *old = NULL, *old_states = NULL, *old_starts = NULL, *old_breaks = NULL, *states = NULL, *result = NULL;
    PyObject *on_board = NULL, *boarded = NULL; /* who is in the car: load kind -> seats taken; pickup -> (start, end) */
    i64 t, loc, travel_total, bi, departure = 0, k0 = 0, conv_from = 0, offset = 0, last_state = 0;
    int has_departure = 0, resuming = resume != Py_None;
    int later_any = later != Py_None && PyObject_IsTrue(later);
    if (later_any < 0) return NULL;
    if (later_any && !PyDict_Check(later)) {
        PyErr_SetString(PyExc_TypeError, "_timing: later is not a dict");
        return NULL;
    }
    r_earliest = PyMem_Malloc(sizeof(i64) * (nb + 1));
    r_latest = PyMem_Malloc(sizeof(i64) * (nb + 1));
    r_duration = PyMem_Malloc(sizeof(i64) * (nb + 1));
    if (!r_earliest || !r_latest || !r_duration) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t k = 0; k < nb; k++) {
        PyObject *r = PyTuple_GET_ITEM(rules, k);
        if (int_at(r, 0, &r_earliest[k]) < 0 || int_at(r, 1, &r_latest[k]) < 0 || int_at(r, 2, &r_duration[k]) < 0)
            goto fail;
    }
    if (resuming) {
        if ((old = PyObject_GetAttr(resume, s_summary)) == NULL) goto fail;
        if (int_attr(resume, s_k0, &k0) < 0 || int_attr(resume, s_conv_from, &conv_from) < 0
            || int_attr(resume, s_offset, &offset) < 0)
            goto fail;
        if (conv_from < offset) goto not_here; /* the old stop matched would be before the first */
        if ((old_states = PyObject_GetAttr(old, s_states)) == NULL) goto fail;
        if ((old_starts = PyObject_GetAttr(old, s_starts)) == NULL) goto fail;
        if ((old_breaks = PyObject_GetAttr(old, s_breaks)) == NULL) goto fail;
        if (!PyList_Check(old_states) || !PyList_Check(old_starts) || !PyList_Check(old_breaks)) {
            PyErr_SetString(PyExc_TypeError, "_timing: a kept pass without lists");
            goto fail;
        }
        {
            PyObject *ld = PyObject_GetAttr(old, s_load);
            if (ld == NULL) goto fail;
            int loaded = PyObject_IsTrue(ld);
            Py_DECREF(ld);
            if (loaded < 0) goto fail;
            if (loaded) goto not_here;
        }
        /* The kept pass's states carry no load on a route timed here, but one it resumes from
         * (a removal's old route) may have had some. */
        Py_ssize_t n_states = PyList_GET_SIZE(old_states);
        for (Py_ssize_t k = 0; k < n_states; k++) {
            int a = attr_is_none(PyList_GET_ITEM(old_states, k), s_load);
            if (a < 0) goto fail;
            if (!a) goto not_here;
        }
        if (k0 < 0 || k0 >= n_states) {
            PyErr_SetString(PyExc_IndexError, "_timing: resumed past the kept pass");
            goto fail;
        }
        PyObject *st = PyList_GET_ITEM(old_states, k0);
        PyObject *dep;
        if ((on_board = copied_dict(st, s_on_board)) == NULL || (boarded = copied_dict(st, s_boarded)) == NULL) goto fail;
        if (int_attr(st, s_t, &t) < 0 || int_attr(st, s_loc, &loc) < 0 || int_attr(st, s_travel, &travel_total) < 0
            || int_attr(st, s_bi, &bi) < 0)
            goto fail;
        if ((dep = PyObject_GetAttr(st, s_departure)) == NULL) goto fail;
        if (dep != Py_None) {
            has_departure = 1;
            if (to_i64(dep, &departure) < 0) {
                Py_DECREF(dep);
                goto fail;
            }
        }
        Py_DECREF(dep);
        for (i64 k = 0; k < k0; k++) {
            i64 s;
            if (int_at(old_starts, (Py_ssize_t)k, &s) < 0 || vec_push(&starts, s) < 0) goto fail;
        }
        for (i64 k = 0; k < bi; k++) {
            PyObject *b = item_at(old_breaks, (Py_ssize_t)k);
            if (b == NULL) goto fail;
            i64 x, y;
            int rc = (int_at(b, 0, &x) < 0 || int_at(b, 1, &y) < 0) ? -1 : 0;
            Py_DECREF(b);
            if (rc < 0 || vec_push(&bs, x) < 0 || vec_push(&be, y) < 0) goto fail;
        }
        /* self._deferred = old.deferred if k0 else False */
        PyObject *deferred = Py_False;
        if (k0) {
            if ((deferred = PyObject_GetAttr(old, s_deferred)) == NULL) goto fail;
        } else {
            Py_INCREF(deferred);
        }
        int rc = PyObject_SetAttr(plan, s__deferred, deferred);
        Py_DECREF(deferred);
        if (rc < 0) goto fail;
        last_state = n_states - 1;
    } else {
        t = shift_start;
        loc = start_loc;
        travel_total = 0;
        bi = 0;
        if ((on_board = PyDict_New()) == NULL || (boarded = PyDict_New()) == NULL) goto fail;
        if (record != Py_None) {
            if ((states = PyObject_GetAttr(record, s_states)) == NULL) goto fail;
            if (!PyList_Check(states)) {
                PyErr_SetString(PyExc_TypeError, "_timing: record.states is not a list");
                goto fail;
            }
        }
    }

    for (Py_ssize_t k = (Py_ssize_t)k0; k < n; k++) {
        if (states != NULL
            && append_state(states, t, loc, travel_total, bi, has_departure, departure, on_board, boarded) < 0)
            goto fail;
        PyObject *vi_obj = PyTuple_GET_ITEM(PyList_GET_ITEM(stops, k), 0);
        i64 vi = PyLong_AsLongLong(vi_obj);
        i64 duration, v_in, v_out, tr, floor = 0;
        if (int_at(durations, (Py_ssize_t)vi, &duration) < 0 || int_at(loc_in, (Py_ssize_t)vi, &v_in) < 0
            || int_at(loc_out, (Py_ssize_t)vi, &v_out) < 0 || cell(matrix, loc, v_in, &tr) < 0)
            goto fail;
        PyObject *vw = item_at(windows, (Py_ssize_t)vi);
        if (vw == NULL) goto fail;
        if (later_any) {
            PyObject *f = PyDict_GetItemWithError(later, vi_obj);
            if (f == NULL && PyErr_Occurred()) goto fail_vw;
            if (f != NULL && to_i64(f, &floor) < 0) goto fail_vw;
        }
        i64 start;
        int got;
        while (bi < nb) {
            i64 earliest = r_earliest[bi], latest = r_latest[bi], dur = r_duration[bi];
            i64 b_start = max2(max2(t, earliest), bs.n ? be.v[bs.n - 1] : t);
            if (b_start > latest) goto none_vw;
            i64 ready = max2(t + tr, b_start) + dur;
            got = start_at(vw, fixed, vi_obj, max2(t + tr, floor), &start);
            if (got < 0) goto fail_vw;
            int after_ok = got && start + duration <= latest;
            if (starts.n == 0 && defer_first && after_ok) {
                if (PyObject_SetAttr(plan, s__deferred, Py_True) < 0) goto fail_vw;
                break; /* never start the day with a break that can wait */
            }
            if (got && ready <= start) {
                if (starts.n == 0 && bi == nb - 1) {
                    /* Before the day's first visit: as late as its window and the visit allow. */
                    b_start = max2(b_start, min2(latest, start - dur));
                    ready = max2(t + tr, b_start) + dur;
                }
            } else if (after_ok) {
                break; /* can still be taken after this visit */
            }
            if (vec_push(&bs, b_start) < 0 || vec_push(&be, b_start + dur) < 0) goto fail_vw;
            t = ready - tr;
            bi++;
        }
        got = start_at(vw, fixed, vi_obj, max2(t + tr, floor), &start);
        Py_DECREF(vw);
        if (got < 0) goto fail;
        if (!got) goto none;
        if (starts.n == 0) {
            /* Leave as late as the first visit allows, but no later than the first break. */
            if (bs.n) {
                i64 paused = 0;
                for (Py_ssize_t j = 0; j < bs.n; j++) paused += be.v[j] - bs.v[j];
                departure = max2(shift_start, min2(bs.v[0], start - tr - paused));
            } else {
                departure = start - tr;
            }
            has_departure = 1;
        }
        if (vec_push(&starts, start) < 0) goto fail;
        travel_total += tr;
        t = start + duration;
        loc = v_out;
        {
            PyObject *ride = PyDict_GetItemWithError(ride_at, vi_obj);
            if (ride == NULL && PyErr_Occurred()) goto fail;
            if (ride != NULL) {
                int rc = board(ride, vi_obj, vi, start, t, on_board, boarded, capacity, &result);
                if (rc < 0) goto fail;
                if (rc == 0) goto none;
                if (rc == 2) { /* a ride too long: PickupLater, with the pass recorded as far as here */
                    if (record != Py_None && record_lists(record, &starts, &bs, &be, NULL, NULL) < 0) goto fail;
                    goto done;
                }
            }
        }
        if (resuming && k >= conv_from && k - offset < last_state) {
            i64 old_start;
            if (int_at(old_starts, (Py_ssize_t)(k - offset), &old_start) < 0) goto fail;
            if (start == old_start) {
                PyObject *st = PyList_GET_ITEM(old_states, (Py_ssize_t)(k - offset + 1));
                i64 st_bi;
                if (int_attr(st, s_bi, &st_bi) < 0) goto fail;
                int same = st_bi == bi;
                if (same && bi > 0) {
                    i64 old_end;
                    PyObject *b = item_at(old_breaks, (Py_ssize_t)(bi - 1));
                    if (b == NULL) goto fail;
                    int rc = int_at(b, 1, &old_end);
                    Py_DECREF(b);
                    if (rc < 0) goto fail;
                    same = be.v[bs.n - 1] == old_end;
                }
                if (same) { /* st.boarded == (boarded or None) */
                    PyObject *sb = PyObject_GetAttr(st, s_boarded);
                    if (sb == NULL) goto fail;
                    if (PyDict_GET_SIZE(boarded) == 0) {
                        same = sb == Py_None;
                    } else {
                        same = sb == Py_None ? 0 : PyObject_RichCompareBool(sb, boarded, Py_EQ);
                    }
                    Py_DECREF(sb);
                    if (same < 0) goto fail;
                }
                if (same) {
                    PyObject *timing = PyObject_GetAttr(old, s_timing);
                    if (timing == NULL) goto fail;
                    if (timing == Py_None) {
                        /* The old pass failed further on, or stopped at a ride too long. */
                        Py_DECREF(timing);
                        result = PyObject_GetAttr(old, s_later);
                        goto done;
                    }
                    i64 t_end, t_travel, st_travel;
                    if (int_attr(timing, s_end, &t_end) < 0 || int_attr(timing, s_travel, &t_travel) < 0
                        || int_attr(st, s_travel, &st_travel) < 0) {
                        Py_DECREF(timing);
                        goto fail;
                    }
                    Py_DECREF(timing);
                    PyObject *conv = PyLong_FromLongLong(k + 1);
                    if (conv == NULL) goto fail;
                    int rc = PyObject_SetAttr(resume, s_converged, conv);
                    Py_DECREF(conv);
                    if (rc < 0) goto fail;
                    PyObject *head = int_list(&starts), *tail = NULL, *all_starts = NULL, *brk = NULL,
                             *brk_tail = NULL, *all_breaks = NULL;
                    if (head == NULL) goto fail;
                    tail = PyList_GetSlice(old_starts, (Py_ssize_t)(k - offset + 1), PyList_GET_SIZE(old_starts));
                    if (tail != NULL) all_starts = PySequence_Concat(head, tail);
                    brk = break_list(&bs, &be);
                    if (brk != NULL)
                        brk_tail = PyList_GetSlice(old_breaks, (Py_ssize_t)bi, PyList_GET_SIZE(old_breaks));
                    if (brk_tail != NULL) all_breaks = PySequence_Concat(brk, brk_tail);
                    if (all_starts != NULL && all_breaks != NULL)
                        result = PyObject_CallFunction(Timing, "OLLLO", all_starts, departure, t_end,
                                                       travel_total + t_travel - st_travel, all_breaks);
                    Py_XDECREF(head);
                    Py_XDECREF(tail);
                    Py_XDECREF(all_starts);
                    Py_XDECREF(brk);
                    Py_XDECREF(brk_tail);
                    Py_XDECREF(all_breaks);
                    if (result == NULL) goto fail;
                    goto done;
                }
            }
        }
        continue;
    none_vw:
        Py_DECREF(vw);
        goto none;
    fail_vw:
        Py_DECREF(vw);
        goto fail;
    }
    if (states != NULL
        && append_state(states, t, loc, travel_total, bi, has_departure, departure, on_board, boarded) < 0)
        goto fail;
    if (resuming) {
        PyObject *conv = PyLong_FromSsize_t(n);
        if (conv == NULL) goto fail;
        int rc = PyObject_SetAttr(resume, s_converged, conv);
        Py_DECREF(conv);
        if (rc < 0) goto fail;
    }
    if (PyDict_GET_SIZE(boarded)) goto none; /* a passenger never dropped off */
    {
        i64 back;
        if (cell(matrix, loc, end_loc, &back) < 0) goto fail;
        travel_total += back;
        /* timing.trailing_breaks: breaks still due, driving back while waiting for each. */
        i64 clock = t, left = back, free_from = bs.n ? be.v[bs.n - 1] : t;
        Py_ssize_t taken_before = bs.n; /* the tail is taken only if the route can end with it */
        for (i64 r = bi; r < nb; r++) {
            i64 b_start = max2(max2(clock, r_earliest[r]), free_from);
            if (b_start > r_latest[r]) {
                bs.n = be.n = taken_before;
                goto none;
            }
            left -= min2(left, b_start - clock);
            if (vec_push(&bs, b_start) < 0 || vec_push(&be, b_start + r_duration[r]) < 0) goto fail;
            clock = free_from = b_start + r_duration[r];
        }
        i64 end = clock + left;
        if (end > end_limit) {
            bs.n = be.n = taken_before;
            goto none;
        }
        PyObject *sl, *bl;
        if (record_lists(record, &starts, &bs, &be, &sl, &bl) < 0) goto fail;
        result = PyObject_CallFunction(Timing, "OLLLO", sl, has_departure ? departure : shift_start, end, travel_total,
                                       bl);
        Py_DECREF(sl);
        Py_DECREF(bl);
        if (result == NULL) goto fail;
        goto done;
    }
none:
    if (record != Py_None && record_lists(record, &starts, &bs, &be, NULL, NULL) < 0) goto fail;
    Py_INCREF(Py_None);
    result = Py_None;
    goto done;
not_here:
    Py_INCREF(Py_NotImplemented);
    result = Py_NotImplemented;
    goto done;
fail:
    Py_CLEAR(result);
done:
    PyMem_Free(r_earliest);
    PyMem_Free(r_latest);
    PyMem_Free(r_duration);
    PyMem_Free(starts.v);
    PyMem_Free(bs.v);
    PyMem_Free(be.v);
    Py_XDECREF(old);
    Py_XDECREF(old_states);
    Py_XDECREF(old_starts);
    Py_XDECREF(old_breaks);
    Py_XDECREF(states);
    Py_XDECREF(on_board);
    Py_XDECREF(boarded);
    return result;
}

/* bounds(ctx, stops, fixed) -> (free, latest): Plan._bounds' two passes without breaks, the
 * earliest each stop can end (forward) and the latest arrival at each that still lets the rest
 * be timed (backward; the end place's limit last). */
static PyObject *bounds(PyObject *self, PyObject *args) {
    PyObject *ctx, *stops, *fixed;
    (void)self;
    if (!PyArg_ParseTuple(args, "O!O!O!", &PyTuple_Type, &ctx, &PyList_Type, &stops, &PyDict_Type, &fixed)) return NULL;
    if (PyTuple_GET_SIZE(ctx) != 13) {
        PyErr_SetString(PyExc_TypeError, "_timing: ctx is not the 13-tuple Plan._timing_ctx makes");
        return NULL;
    }
    const i64 INF = 1000000000LL; /* timing.INF */
    PyObject *matrix = PyTuple_GET_ITEM(ctx, 0), *durations = PyTuple_GET_ITEM(ctx, 1),
             *windows = PyTuple_GET_ITEM(ctx, 8), *loc_in = PyTuple_GET_ITEM(ctx, 9), *loc_out = PyTuple_GET_ITEM(ctx, 10);
    i64 shift_start, start_loc, end_loc, end_limit;
    if (to_i64(PyTuple_GET_ITEM(ctx, 2), &shift_start) < 0 || to_i64(PyTuple_GET_ITEM(ctx, 3), &start_loc) < 0
        || to_i64(PyTuple_GET_ITEM(ctx, 4), &end_loc) < 0 || to_i64(PyTuple_GET_ITEM(ctx, 6), &end_limit) < 0)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(stops);
    PyObject *free = PyList_New(n + 1), *latest = PyList_New(n + 1);
    if (free == NULL || latest == NULL) goto fail;
    i64 t = shift_start, loc = start_loc;
    PyObject *o = PyLong_FromLongLong(t);
    if (o == NULL) goto fail;
    PyList_SET_ITEM(free, 0, o);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *st = PyList_GET_ITEM(stops, k);
        if (!PyTuple_Check(st) || PyTuple_GET_SIZE(st) < 1) {
            PyErr_SetString(PyExc_TypeError, "_timing: a stop is not a (visit, copy) tuple");
            goto fail;
        }
        PyObject *vi_obj = PyTuple_GET_ITEM(st, 0);
        i64 vi, v_in, v_out, tr, dur, s;
        if (to_i64(vi_obj, &vi) < 0 || int_at(loc_in, (Py_ssize_t)vi, &v_in) < 0
            || int_at(loc_out, (Py_ssize_t)vi, &v_out) < 0 || cell(matrix, loc, v_in, &tr) < 0
            || int_at(durations, (Py_ssize_t)vi, &dur) < 0)
            goto fail;
        PyObject *vw = item_at(windows, (Py_ssize_t)vi);
        if (vw == NULL) goto fail;
        int got = start_at(vw, fixed, vi_obj, t + tr, &s);
        Py_DECREF(vw);
        if (got < 0) goto fail;
        t = (got ? s : INF) + dur;
        loc = v_out;
        if ((o = PyLong_FromLongLong(t)) == NULL) goto fail;
        PyList_SET_ITEM(free, k + 1, o);
    }
    i64 bound = end_limit, nxt = end_loc;
    if ((o = PyLong_FromLongLong(bound)) == NULL) goto fail;
    PyList_SET_ITEM(latest, n, o);
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        PyObject *vi_obj = PyTuple_GET_ITEM(PyList_GET_ITEM(stops, k), 0);
        i64 vk, v_in, v_out, tr, dur;
        if (to_i64(vi_obj, &vk) < 0 || int_at(loc_in, (Py_ssize_t)vk, &v_in) < 0
            || int_at(loc_out, (Py_ssize_t)vk, &v_out) < 0 || cell(matrix, v_out, nxt, &tr) < 0
            || int_at(durations, (Py_ssize_t)vk, &dur) < 0)
            goto fail;
        bound = bound - tr - dur;
        PyObject *f = PyDict_GetItemWithError(fixed, vi_obj);
        if (f == NULL && PyErr_Occurred()) goto fail;
        if (f != NULL && f != Py_None) {
            i64 fv;
            if (to_i64(f, &fv) < 0) goto fail;
            bound = fv <= bound ? fv : -INF;
        } else {
            /* The latest window opening by the bound: start by its end, or by the bound. */
            PyObject *vw = item_at(windows, (Py_ssize_t)vk);
            if (vw == NULL) goto fail;
            Py_ssize_t m = PySequence_Size(vw);
            int found = 0;
            for (Py_ssize_t j = m - 1; j >= 0 && !found; j--) {
                PyObject *w = item_at(vw, j);
                if (w == NULL) {
                    Py_DECREF(vw);
                    goto fail;
                }
                i64 a, b;
                int rc = (int_at(w, 0, &a) < 0 || int_at(w, 1, &b) < 0) ? -1 : 0;
                Py_DECREF(w);
                if (rc < 0) {
                    Py_DECREF(vw);
                    goto fail;
                }
                if (a <= bound) {
                    bound = b < bound ? b : bound;
                    found = 1;
                }
            }
            Py_DECREF(vw);
            if (m < 0) goto fail;
            if (!found) bound = -INF;
        }
        if ((o = PyLong_FromLongLong(bound)) == NULL) goto fail;
        PyList_SET_ITEM(latest, k, o);
        nxt = v_in;
    }
    return Py_BuildValue("(NN)", free, latest);
fail:
    Py_XDECREF(free);
    Py_XDECREF(latest);
    return NULL;
}

static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *timing, *pass_state, *pickup_later;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOO", &timing, &pass_state, &pickup_later)) return NULL;
    Py_XDECREF(Timing);
    Py_XDECREF(PassState);
    Py_XDECREF(PickupLater);
    Py_INCREF(timing);
    Py_INCREF(pass_state);
    Py_INCREF(pickup_later);
    Timing = timing;
    PassState = pass_state;
    PickupLater = pickup_later;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"forward", forward, METH_VARARGS,
     "forward(plan, ctx, stops, fixed, later, defer_first, record, resume): Plan._forward for a route "
     "without rides or loads, or NotImplemented."},
    {"bounds", bounds, METH_VARARGS,
     "bounds(ctx, stops, fixed) -> (free, latest): Plan._bounds' break-free passes, in C."},
    {"configure", configure, METH_VARARGS, "configure(Timing, PassState, PickupLater): the classes the pass returns."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_timing", "A route's forward pass, in C.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__timing(void) {
#define INTERN(var, text) \
    if ((var = PyUnicode_InternFromString(text)) == NULL) return NULL;
    INTERN(s_summary, "summary");
    INTERN(s_k0, "k0");
    INTERN(s_conv_from, "conv_from");
    INTERN(s_offset, "offset");
    INTERN(s_converged, "converged");
    INTERN(s_states, "states");
    INTERN(s_starts, "starts");
    INTERN(s_breaks, "breaks");
    INTERN(s_deferred, "deferred");
    INTERN(s_load, "load");
    INTERN(s_timing, "timing");
    INTERN(s_later, "later");
    INTERN(s_t, "t");
    INTERN(s_loc, "loc");
    INTERN(s_travel, "travel");
    INTERN(s_bi, "bi");
    INTERN(s_departure, "departure");
    INTERN(s_on_board, "on_board");
    INTERN(s_boarded, "boarded");
    INTERN(s_end, "end");
    INTERN(s__deferred, "_deferred");
#undef INTERN
    return PyModule_Create(&module);
}
