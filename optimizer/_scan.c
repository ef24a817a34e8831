/*
 * The route scan of an insertion, compiled (optimizer.construct.Builder._scan, incremental half).
 *
 * Why it exists: in an LNS round most of the time went to looking at routes that cannot take
 * the visit being inserted.  On the Kielce demo day a visit is asked of about 20 routes, and
 * the break-free bounds of a route's kept pass (timing.Plan.insertable) rule out five in six of
 * those that survive the first tests; each look was a dozen Python calls for about one
 * position.  This file runs that loop as C: for each eligible worker's routes, the positions
 * the route's starts and fixed starts allow (with the same random "blinks", drawn from the
 * caller's random stream in the same order), then the route's kept pass (taken from the plan
 * at once when its quick check holds, else asked of Plan.summary_with) and its bounds.  What
 * survives is priced in Python (Builder._priced_bounds), which does the rest of
 * Builder._lower_bounds.  The answer is the Python scan's, item for item
 * (tests/optimizer/test_incremental.py runs both; benchmarks/lns_speed.py prints the plans).
 *
 * scan(builder, vi, offers, lo, hi, fixed, pin_workers, apart, vehicles, only, blink, rnd)
 *   -> list of Builder._lower_bounds items with at least one bound
 *
 * The rules it applies are the ones of Builder._scan and Plan.insertable / Plan.start_at; it
 * reads the builder's own lists (routes, stops, starts, the kept passes) and changes nothing.
 *
 * ride_pairs(...) does the same for a ride on one route (Builder._ride_options): the travel its
 * pickup and drop-off add at each pair of positions and the pairs the kept pass's bounds allow.
 */
#include "_pyints.h"

/* Strings looked up once. */
static PyObject *s_by_worker, *s_routes, *s_latest_start, *s_loc_in, *s_loc_out, *s_plain, *s_summaries,
    *s_fixed, *s_placed, *s_version, *s_fixed_ref, *s_fixed_version, *s_stops, *s_starts, *s_states,
    *s_shift_index, *s_shifts, *s_start, *s_end, *s_max_overtime, *s_breaks, *s_id, *s_windows,
    *s_summary_with, *s_priced_bounds, *s_matrix, *s_free_lb, *s_ends, *s_nexts, *s_latest, *s_durations;

/* The visit index of stops[k] (a (visit, copy) tuple). */
static int stop_visit(PyObject *stops, Py_ssize_t k, PyObject **vi_obj, i64 *vi) {
    PyObject *st = PyList_Check(stops) ? PyList_GET_ITEM(stops, k) : PyTuple_GET_ITEM(stops, k);
    if (!PyTuple_Check(st) || PyTuple_GET_SIZE(st) < 1) {
        PyErr_SetString(PyExc_TypeError, "_scan: a stop is not a (visit, copy) tuple");
        return -1;
    }
    *vi_obj = PyTuple_GET_ITEM(st, 0);
    return to_i64(*vi_obj, vi);
}

/* Plan.insertable: the positions (of n) where the visit could be timed even without breaks. */
static int insertable(PyObject *kept, Py_ssize_t v_in, Py_ssize_t v_out, PyObject *vi_obj, PyObject *windows,
                      PyObject *fixed, const Py_ssize_t *positions, Py_ssize_t n, Py_ssize_t *out, Py_ssize_t *n_out) {
    int rc = -1;
    PyObject *matrix = PyObject_GetAttr(kept, s_matrix), *free_lb = NULL, *ends = NULL, *nexts = NULL,
             *latest = NULL, *durations = NULL, *row_out = NULL;
    if (matrix == NULL) goto done;
    if ((free_lb = PyObject_GetAttr(kept, s_free_lb)) == NULL) goto done;
    if ((ends = PyObject_GetAttr(kept, s_ends)) == NULL) goto done;
    if ((nexts = PyObject_GetAttr(kept, s_nexts)) == NULL) goto done;
    if ((latest = PyObject_GetAttr(kept, s_latest)) == NULL) goto done;
    if ((durations = PyObject_GetAttr(kept, s_durations)) == NULL) goto done;
    if ((row_out = item_at(matrix, v_out)) == NULL) goto done;
    i64 duration;
    if (int_at(durations, PyLong_AsSsize_t(vi_obj), &duration) < 0) goto done;
    *n_out = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t pos = positions[k];
        i64 free, end, next, travel_in, travel_out, last, s;
        if (int_at(free_lb, pos, &free) < 0 || int_at(ends, pos, &end) < 0) goto done;
        if (cell(matrix, (Py_ssize_t)end, v_in, &travel_in) < 0) goto done;
        int got = start_at(windows, fixed, vi_obj, free + travel_in, &s);
        if (got < 0) goto done;
        if (!got) continue;
        if (int_at(nexts, pos, &next) < 0 || int_at(row_out, (Py_ssize_t)next, &travel_out) < 0) goto done;
        if (int_at(latest, pos, &last) < 0) goto done;
        if (s + duration + travel_out <= last) out[(*n_out)++] = pos;
    }
    rc = 0;
done:
    Py_XDECREF(matrix);
    Py_XDECREF(free_lb);
    Py_XDECREF(ends);
    Py_XDECREF(nexts);
    Py_XDECREF(latest);
    Py_XDECREF(durations);
    Py_XDECREF(row_out);
    return rc;
}

/* The route's kept pass as Plan.summary_with gives it: the plan's own at once when its quick
 * check (Plan.route_summary) holds, else asked of the builder.  New reference; Py_None for none. */
static PyObject *kept_pass(PyObject *builder, PyObject *summaries, PyObject *sfixed, PyObject *v_obj,
                           PyObject *route, PyObject *stops, PyObject *fixed, PyObject *vi_obj) {
    /* The version as it is now, as Plan.route_summary reads it on every call. */
    PyObject *version = PyObject_GetAttr(sfixed, s_version);
    if (version == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return NULL;
        PyErr_Clear(); /* a plain dict: the pass is asked of the builder */
    }
    PyObject *out = NULL, *kept = NULL;
    if (version != NULL) {
        PyObject *key = PyTuple_Pack(2, v_obj, Py_True);
        if (key == NULL) goto done;
        kept = PyDict_GetItemWithError(summaries, key);
        Py_DECREF(key);
        if (kept == NULL && PyErr_Occurred()) goto done;
        Py_XINCREF(kept); /* held while it is looked at */
        if (kept != NULL) {
            PyObject *ref = PyObject_GetAttr(kept, s_fixed_ref);
            if (ref == NULL) goto done;
            int same = ref == sfixed;
            Py_DECREF(ref);
            if (same) {
                PyObject *kv = PyObject_GetAttr(kept, s_fixed_version);
                if (kv == NULL) goto done;
                int eq = PyObject_RichCompareBool(kv, version, Py_EQ);
                Py_DECREF(kv);
                if (eq < 0) goto done;
                if (eq) {
                    PyObject *kstops = PyObject_GetAttr(kept, s_stops);
                    if (kstops == NULL) goto done;
                    eq = PyObject_RichCompareBool(kstops, stops, Py_EQ);
                    Py_DECREF(kstops);
                    if (eq < 0) goto done;
                }
                if (eq) {
                    PyObject *states = PyObject_GetAttr(kept, s_states);
                    if (states == NULL) goto done;
                    int full = PyObject_IsTrue(states);
                    Py_DECREF(states);
                    if (full < 0) goto done;
                    out = full ? kept : Py_None;
                    Py_INCREF(out);
                    goto done;
                }
            }
        }
    }
    out = PyObject_CallMethodObjArgs(builder, s_summary_with, route, fixed, vi_obj, NULL);
done:
    Py_XDECREF(kept);
    Py_XDECREF(version);
    return out;
}

static PyObject *scan(PyObject *self, PyObject *args) {
    PyObject *builder, *offers, *fixed, *pin_workers, *apart, *vehicles, *only, *rnd;
    Py_ssize_t vi_s;
    long long lo, hi;
    double blink;
    if (!PyArg_ParseTuple(args, "OnOLLOOOOOdO", &builder, &vi_s, &offers, &lo, &hi, &fixed, &pin_workers, &apart,
                          &vehicles, &only, &blink, &rnd))
        return NULL;
    PyObject *todo = NULL, *by_worker = NULL, *routes = NULL, *latest_start = NULL, *loc_in = NULL, *loc_out = NULL,
             *plain = NULL, *summaries = NULL, *plan_fixed = NULL, *placed = NULL, *sfixed = NULL,
             *vi_obj = NULL, *visit_windows = NULL, *windows_list = NULL, *offers_seq = NULL;
    Py_ssize_t *positions = NULL, *kept_pos = NULL;
    Py_ssize_t cap = 0;

    if ((offers_seq = PySequence_Fast(offers, "_scan: offers is not a sequence")) == NULL) goto fail;
    if ((by_worker = PyObject_GetAttr(builder, s_by_worker)) == NULL) goto fail;
    if ((routes = PyObject_GetAttr(builder, s_routes)) == NULL) goto fail;
    if ((latest_start = PyObject_GetAttr(builder, s_latest_start)) == NULL) goto fail;
    if ((loc_in = PyObject_GetAttr(builder, s_loc_in)) == NULL) goto fail;
    if ((loc_out = PyObject_GetAttr(builder, s_loc_out)) == NULL) goto fail;
    if ((plain = PyObject_GetAttr(builder, s_plain)) == NULL) goto fail;
    if ((summaries = PyObject_GetAttr(builder, s_summaries)) == NULL) goto fail;
    if (!PyDict_Check(summaries)) {
        PyErr_SetString(PyExc_TypeError, "_scan: the kept passes are not a dict");
        goto fail;
    }
    if ((plan_fixed = PyObject_GetAttr(builder, s_fixed)) == NULL) goto fail;
    if ((placed = PyObject_GetAttr(builder, s_placed)) == NULL) goto fail;
    if ((vi_obj = PyLong_FromSsize_t(vi_s)) == NULL) goto fail;
    /* Plan.summary_with: the plan's own fixed starts while the visit is on no route. */
    int is_placed = PySequence_Contains(placed, vi_obj);
    if (is_placed < 0) goto fail;
    sfixed = is_placed ? fixed : plan_fixed;
    Py_INCREF(sfixed);
    /* The visit's windows (Plan.windows), for start_at with ``fixed``. */
    if ((windows_list = PyObject_GetAttr(builder, s_windows)) == NULL) goto fail;
    if ((visit_windows = item_at(windows_list, vi_s)) == NULL) goto fail;
    if (!PyDict_Check(fixed)) {
        PyErr_SetString(PyExc_TypeError, "_scan: fixed starts are not a dict");
        goto fail;
    }
    i64 v_in_i, v_out_i;
    if (int_at(loc_in, vi_s, &v_in_i) < 0 || int_at(loc_out, vi_s, &v_out_i) < 0) goto fail;
    int plain_is_false = plain == Py_False; /* Builder._lower_bounds: ``self.plain is False`` */

    if ((todo = PyList_New(0)) == NULL) goto fail;
    Py_ssize_t n_offers = PySequence_Fast_GET_SIZE(offers_seq);
    for (Py_ssize_t oi = 0; oi < n_offers; oi++) {
        PyObject *offer = PySequence_Fast_GET_ITEM(offers_seq, oi);
        if (!PyTuple_Check(offer) || PyTuple_GET_SIZE(offer) != 6) {
            PyErr_SetString(PyExc_TypeError, "_scan: an offer is not a 6-tuple");
            goto fail;
        }
        PyObject *wi_obj = PyTuple_GET_ITEM(offer, 0), *worker = PyTuple_GET_ITEM(offer, 1),
                 *durations = PyTuple_GET_ITEM(offer, 3), *travel = PyTuple_GET_ITEM(offer, 4),
                 *assigned = PyTuple_GET_ITEM(offer, 5);
        i64 duration;
        if (to_i64(PyTuple_GET_ITEM(offer, 2), &duration) < 0) goto fail;
        if (pin_workers != Py_None) {
            PyObject *wid = PyObject_GetAttr(worker, s_id);
            if (wid == NULL) goto fail;
            int in = PySequence_Contains(pin_workers, wid);
            Py_DECREF(wid);
            if (in < 0) goto fail;
            if (!in) continue;
        }
        int away = PySequence_Contains(apart, wi_obj);
        if (away < 0) goto fail;
        if (away) continue;
        if (!PyDict_Check(by_worker)) {
            PyErr_SetString(PyExc_TypeError, "_scan: the builder's vehicles by worker are not a dict");
            goto fail;
        }
        PyObject *vs = PyDict_GetItemWithError(by_worker, wi_obj);
        if (vs == NULL) {
            if (PyErr_Occurred()) goto fail;
            continue;
        }
        if (!PyList_Check(vs)) {
            PyErr_SetString(PyExc_TypeError, "_scan: a worker's vehicles are not a list");
            goto fail;
        }
        PyObject *shifts = PyObject_GetAttr(worker, s_shifts);
        if (shifts == NULL) goto fail;
        Py_INCREF(vs); /* held while the loop calls back into Python */
        Py_ssize_t n_vs = PyList_GET_SIZE(vs);
        for (Py_ssize_t k = 0; k < n_vs; k++) {
            if (k >= PyList_GET_SIZE(vs)) break; /* (changed by a call back: never, but not past its end) */
            PyObject *v_obj = PyList_GET_ITEM(vs, k);
            if (vehicles != Py_None) {
                int in = PySequence_Contains(vehicles, v_obj);
                if (in < 0) goto fail_shifts;
                if (!in) continue;
            }
            if (only != Py_None) {
                int in = PySequence_Contains(only, v_obj);
                if (in < 0) goto fail_shifts;
                if (!in) continue;
            }
            Py_ssize_t v = PyLong_AsSsize_t(v_obj);
            if (v == -1 && PyErr_Occurred()) goto fail_shifts;
            PyObject *route = item_at(routes, v);
            if (route == NULL) goto fail_shifts;
            PyObject *shift = NULL, *stops = NULL, *starts = NULL, *kept = NULL, *pos_list = NULL, *res = NULL;
            i64 si, sh_start, sh_end, sh_over;
            if (int_attr(route, s_shift_index, &si) < 0) goto fail_route;
            if ((shift = item_at(shifts, (Py_ssize_t)si)) == NULL) goto fail_route;
            if (int_attr(shift, s_start, &sh_start) < 0 || int_attr(shift, s_end, &sh_end) < 0
                || int_attr(shift, s_max_overtime, &sh_over) < 0)
                goto fail_route;
            if (hi < sh_start || lo + duration > sh_end + sh_over) goto next_route;
            if ((stops = PyObject_GetAttr(route, s_stops)) == NULL) goto fail_route;
            if ((starts = PyObject_GetAttr(route, s_starts)) == NULL) goto fail_route;
            if (!PyList_Check(stops)) {
                PyErr_SetString(PyExc_TypeError, "_scan: a route's stops are not a list");
                goto fail_route;
            }
            Py_ssize_t n = PyList_GET_SIZE(stops);
            if (n + 1 > cap) {
                cap = 2 * (n + 1);
                PyMem_Free(positions);
                PyMem_Free(kept_pos);
                positions = PyMem_Malloc(sizeof(Py_ssize_t) * cap);
                kept_pos = PyMem_Malloc(sizeof(Py_ssize_t) * cap);
                if (positions == NULL || kept_pos == NULL) {
                    PyErr_NoMemory();
                    goto fail_route;
                }
            }
            Py_ssize_t count = 0;
            for (Py_ssize_t pos = 0; pos <= n; pos++) {
                if (pos > 0) {
                    PyObject *pv;
                    i64 prev, prev_start, dur;
                    if (stop_visit(stops, pos - 1, &pv, &prev) < 0) goto fail_route;
                    if (int_at(starts, pos - 1, &prev_start) < 0) goto fail_route;
                    if (int_at(durations, (Py_ssize_t)prev, &dur) < 0) goto fail_route;
                    if (prev_start + dur > hi) break;
                }
                PyObject *next_obj = NULL;
                i64 next = 0;
                if (pos < n) {
                    i64 last;
                    if (stop_visit(stops, pos, &next_obj, &next) < 0) goto fail_route;
                    if (int_at(latest_start, (Py_ssize_t)next, &last) < 0) goto fail_route;
                    if (last < lo + duration) continue;
                }
                if (blink != 0.0) {
                    PyObject *r = PyObject_CallNoArgs(rnd);
                    if (r == NULL) goto fail_route;
                    double x = PyFloat_AsDouble(r);
                    Py_DECREF(r);
                    if (x == -1.0 && PyErr_Occurred()) goto fail_route;
                    if (x < blink) continue;
                }
                if (pos < n) {
                    /* A stop with a fixed start cannot wait for the visit and the drive from it. */
                    PyObject *held = PyDict_GetItemWithError(fixed, next_obj);
                    if (held == NULL && PyErr_Occurred()) goto fail_route;
                    if (held != NULL && held != Py_None) {
                        i64 h, drive, next_in;
                        if (to_i64(held, &h) < 0) goto fail_route;
                        if (int_at(loc_in, (Py_ssize_t)next, &next_in) < 0) goto fail_route;
                        if (cell(travel, (Py_ssize_t)v_out_i, (Py_ssize_t)next_in, &drive) < 0) goto fail_route;
                        if (h < lo + duration + drive) continue;
                    }
                }
                positions[count++] = pos;
            }
            if (count == 0) goto next_route;
            /* Builder._lower_bounds */
            int needs_pass = plain_is_false;
            if (!needs_pass) { /* a plain day: only a shift with breaks has a kept pass to ask */
                PyObject *br = PyObject_GetAttr(shift, s_breaks);
                if (br == NULL) goto fail_route;
                needs_pass = PyObject_IsTrue(br);
                Py_DECREF(br);
                if (needs_pass < 0) goto fail_route;
            }
            if (needs_pass) {
                kept = kept_pass(builder, summaries, sfixed, v_obj, route, stops, fixed, vi_obj);
                if (kept == NULL) goto fail_route;
            } else {
                kept = Py_None;
                Py_INCREF(kept);
            }
            Py_ssize_t survivors = count;
            Py_ssize_t *use = positions;
            if (kept != Py_None) {
                if (insertable(kept, (Py_ssize_t)v_in_i, (Py_ssize_t)v_out_i, vi_obj, visit_windows, fixed, positions, count, kept_pos,
                               &survivors) < 0)
                    goto fail_route;
                use = kept_pos;
                if (survivors == 0) goto next_route;
            }
            if ((pos_list = PyList_New(survivors)) == NULL) goto fail_route;
            for (Py_ssize_t j = 0; j < survivors; j++) {
                PyObject *p = PyLong_FromSsize_t(use[j]);
                if (p == NULL) goto fail_route;
                PyList_SET_ITEM(pos_list, j, p);
            }
            res = PyObject_CallMethodObjArgs(builder, s_priced_bounds, vi_obj, route, worker, pos_list, assigned, kept,
                                             NULL);
            if (res == NULL) goto fail_route;
            if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) < 1) {
                PyErr_SetString(PyExc_TypeError, "_scan: _priced_bounds gave no tuple");
                goto fail_route;
            }
            {
                int any = PyObject_IsTrue(PyTuple_GET_ITEM(res, 0));
                if (any < 0) goto fail_route;
                if (any && PyList_Append(todo, res) < 0) goto fail_route;
            }
        next_route:
            Py_XDECREF(shift);
            Py_XDECREF(stops);
            Py_XDECREF(starts);
            Py_XDECREF(kept);
            Py_XDECREF(pos_list);
            Py_XDECREF(res);
            Py_DECREF(route);
            continue;
        fail_route:
            Py_XDECREF(shift);
            Py_XDECREF(stops);
            Py_XDECREF(starts);
            Py_XDECREF(kept);
            Py_XDECREF(pos_list);
            Py_XDECREF(res);
            Py_DECREF(route);
            goto fail_shifts;
        }
        Py_DECREF(shifts);
        Py_DECREF(vs);
        continue;
    fail_shifts:
        Py_DECREF(shifts);
        Py_DECREF(vs);
        goto fail;
    }
    goto done;
fail:
    Py_CLEAR(todo);
done:
    PyMem_Free(positions);
    PyMem_Free(kept_pos);
    Py_XDECREF(offers_seq);
    Py_XDECREF(by_worker);
    Py_XDECREF(routes);
    Py_XDECREF(latest_start);
    Py_XDECREF(loc_in);
    Py_XDECREF(loc_out);
    Py_XDECREF(plain);
    Py_XDECREF(summaries);
    Py_XDECREF(plan_fixed);
    Py_XDECREF(placed);
    Py_XDECREF(sfixed);
    Py_XDECREF(vi_obj);
    Py_XDECREF(visit_windows);
    Py_XDECREF(windows_list);
    return todo;
}


/* Builder._ride_detours, _ride_route_bound and the incremental half of _ride_pairs in one pass
 * (see Builder._ride_options).  Why: in an LNS round on the demo day a ride is asked of about
 * 2.5 routes, and these three Python loops over a route's positions were the largest part of a
 * ride's insertion; most routes end with no pair to time.
 *
 * ride_pairs(matrix, stops, starts, loc_in, loc_out, latest_start, durations, windows, fixed,
 *            pickup, dropoff, start_loc, end_loc, early_p, early_d, last_d, dur_p, dur_d, weight,
 *            free_lb, ends, nexts, latest)  (the last four: the route's kept pass, or all None)
 *   -> (least travel part of any pair x weight, [(travel part x weight, i, j), ...])
 */
static PyObject *ride_pairs(PyObject *self, PyObject *args) {
    PyObject *matrix, *stops, *starts, *loc_in, *loc_out, *latest_start, *durations, *windows, *fixed, *p_obj,
        *d_obj, *free_lb, *ends, *nexts, *latest;
    long long start_loc, end_loc, early_p, early_d, last_d, dur_p, dur_d, weight;
    if (!PyArg_ParseTuple(args, "OOOOOOOOO!OOLLLLLLLLOOOO", &matrix, &stops, &starts, &loc_in, &loc_out,
                          &latest_start, &durations, &windows, &PyDict_Type, &fixed, &p_obj, &d_obj, &start_loc,
                          &end_loc, &early_p, &early_d, &last_d, &dur_p, &dur_d, &weight, &free_lb, &ends, &nexts,
                          &latest))
        return NULL;
    PyObject *out = NULL, *pairs = NULL, *win_p = NULL, *win_d = NULL, **vobj = NULL;
    i64 *buf = NULL;
    stops = PySequence_Fast(stops, "ride_pairs: stops must be a sequence");
    if (stops == NULL) return NULL;
    starts = PySequence_Fast(starts, "ride_pairs: starts must be a sequence");
    if (starts == NULL) {
        Py_DECREF(stops);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(stops);
    if (PySequence_Fast_GET_SIZE(starts) < n) {
        PyErr_SetString(PyExc_IndexError, "ride_pairs: fewer starts than stops");
        goto done;
    }
    int have_kept = free_lb != Py_None;
    vobj = PyMem_Calloc((size_t)n + 1, sizeof(PyObject *));
    buf = PyMem_Calloc(((size_t)n + 1) * 9, sizeof(i64));
    if (vobj == NULL || buf == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    i64 *vis = buf, *lin = buf + (n + 1), *lout = buf + 2 * (n + 1), *st = buf + 3 * (n + 1),
        *lat = buf + 4 * (n + 1), *pick = buf + 5 * (n + 1), *drop = buf + 6 * (n + 1),
        *both = buf + 7 * (n + 1), *dur = buf + 8 * (n + 1);
    i64 pickup, dropoff, p_in, p_out, d_in, d_out, latest_p;
    if (to_i64(p_obj, &pickup) < 0 || to_i64(d_obj, &dropoff) < 0) goto done;
    if (int_at(loc_in, (Py_ssize_t)pickup, &p_in) < 0 || int_at(loc_out, (Py_ssize_t)pickup, &p_out) < 0 ||
        int_at(loc_in, (Py_ssize_t)dropoff, &d_in) < 0 || int_at(loc_out, (Py_ssize_t)dropoff, &d_out) < 0 ||
        int_at(latest_start, (Py_ssize_t)pickup, &latest_p) < 0)
        goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *stop = PySequence_Fast_GET_ITEM(stops, k);
        if (!PyTuple_Check(stop) || PyTuple_GET_SIZE(stop) < 1) {
            PyErr_SetString(PyExc_TypeError, "ride_pairs: a stop is not a (visit, copy) tuple");
            goto done;
        }
        vobj[k] = PyTuple_GET_ITEM(stop, 0);
        if (to_i64(vobj[k], &vis[k]) < 0) goto done;
        Py_ssize_t v = (Py_ssize_t)vis[k];
        if (int_at(loc_in, v, &lin[k]) < 0 || int_at(loc_out, v, &lout[k]) < 0 ||
            to_i64(PySequence_Fast_GET_ITEM(starts, k), &st[k]) < 0 || int_at(latest_start, v, &lat[k]) < 0)
            goto done;
        if (have_kept && int_at(durations, v, &dur[k]) < 0) goto done;
    }
    /* The detours (Builder._ride_detours). */
    for (Py_ssize_t k = 0; k <= n; k++) {
        i64 a = k ? lout[k - 1] : start_loc, b = k < n ? lin[k] : end_loc, gone = 0, a_p, p_b, a_d, d_b, p_d;
        if (n && cell(matrix, a, b, &gone) < 0) goto done;
        if (cell(matrix, a, p_in, &a_p) < 0 || cell(matrix, p_out, b, &p_b) < 0 || cell(matrix, a, d_in, &a_d) < 0 ||
            cell(matrix, d_out, b, &d_b) < 0 || cell(matrix, p_out, d_in, &p_d) < 0)
            goto done;
        pick[k] = a_p + p_b - gone;
        drop[k] = a_d + d_b - gone;
        both[k] = a_p + p_d + d_b - gone;
    }
    /* The least of them (Builder._ride_route_bound). */
    i64 least = both[0], later = drop[n];
    for (Py_ssize_t k = 1; k <= n; k++) least = min2(least, both[k]);
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        least = min2(least, pick[k] + later);
        later = min2(later, drop[k]);
    }
    /* The pairs (Builder._ride_pairs, incremental). */
    if ((pairs = PyList_New(0)) == NULL) goto done;
    if ((win_p = item_at(windows, (Py_ssize_t)pickup)) == NULL || (win_d = item_at(windows, (Py_ssize_t)dropoff)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i <= n; i++) {
        if (i > 0 && st[i - 1] > latest_p) break;
        if (i < n && lat[i] < early_p + dur_p) continue;
        i64 free = 0, at = 0;
        if (have_kept) {
            i64 f, e, travel, s_p;
            if (int_at(free_lb, i, &f) < 0 || int_at(ends, i, &e) < 0 || cell(matrix, e, p_in, &travel) < 0) goto done;
            int got = start_at(win_p, fixed, p_obj, f + travel, &s_p);
            if (got < 0) goto done;
            if (!got) continue;
            free = s_p + dur_p;
            at = p_out;
        }
        for (Py_ssize_t j = i; j <= n; j++) {
            if (j > i && st[j - 1] > last_d) break;
            if (have_kept && j > i) {
                i64 travel, s;
                if (cell(matrix, at, lin[j - 1], &travel) < 0) goto done;
                PyObject *wk = item_at(windows, (Py_ssize_t)vis[j - 1]);
                if (wk == NULL) goto done;
                int got = start_at(wk, fixed, vobj[j - 1], free + travel, &s);
                Py_DECREF(wk);
                if (got < 0) goto done;
                if (!got) break;
                free = s + dur[j - 1];
                at = lout[j - 1];
            }
            if (j < n && lat[j] < early_d + dur_d) continue;
            if (have_kept) {
                i64 travel, s_d, nx, away, last;
                if (cell(matrix, at, d_in, &travel) < 0) goto done;
                int got = start_at(win_d, fixed, d_obj, free + travel, &s_d);
                if (got < 0) goto done;
                if (!got) continue;
                if (int_at(nexts, j, &nx) < 0 || cell(matrix, d_out, nx, &away) < 0 || int_at(latest, j, &last) < 0)
                    goto done;
                if (s_d + dur_d + away > last) continue;
            }
            i64 delta = j == i ? both[i] : pick[i] + drop[j];
            PyObject *item = Py_BuildValue("(Lnn)", delta * weight, i, j);
            if (item == NULL) goto done;
            int rc = PyList_Append(pairs, item);
            Py_DECREF(item);
            if (rc < 0) goto done;
        }
    }
    out = Py_BuildValue("(LO)", least * weight, pairs);
done:
    PyMem_Free(vobj);
    PyMem_Free(buf);
    Py_DECREF(stops);
    Py_DECREF(starts);
    Py_XDECREF(pairs);
    Py_XDECREF(win_p);
    Py_XDECREF(win_d);
    return out;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(builder, vi, offers, lo, hi, fixed, pin_workers, apart, vehicles, only, blink, rnd): "
     "Builder._scan's incremental half (its _lower_bounds items with a bound), in C."},
    {"ride_pairs", ride_pairs, METH_VARARGS,
     "ride_pairs(matrix, stops, starts, loc_in, loc_out, latest_start, durations, windows, fixed, pickup, "
     "dropoff, start_loc, end_loc, early_p, early_d, last_d, dur_p, dur_d, weight, free_lb, ends, nexts, latest): "
     "Builder._ride_options's (bound, pairs) in C."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_scan", "The route scan of an insertion, in C.", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__scan(void) {
#define INTERN(var, text) \
    if ((var = PyUnicode_InternFromString(text)) == NULL) return NULL;
    INTERN(s_by_worker, "by_worker");
    INTERN(s_routes, "routes");
    INTERN(s_latest_start, "latest_start");
    INTERN(s_loc_in, "loc_in");
    INTERN(s_loc_out, "loc_out");
    INTERN(s_plain, "plain");
    INTERN(s_summaries, "_summaries");
    INTERN(s_fixed, "fixed");
    INTERN(s_placed, "placed");
    INTERN(s_version, "version");
    INTERN(s_fixed_ref, "fixed_ref");
    INTERN(s_fixed_version, "fixed_version");
    INTERN(s_stops, "stops");
    INTERN(s_starts, "starts");
    INTERN(s_states, "states");
    INTERN(s_shift_index, "shift_index");
    INTERN(s_shifts, "shifts");
    INTERN(s_start, "start");
    INTERN(s_end, "end");
    INTERN(s_max_overtime, "max_overtime");
    INTERN(s_breaks, "breaks");
    INTERN(s_id, "id");
    INTERN(s_windows, "windows");
    INTERN(s_summary_with, "summary_with");
    INTERN(s_priced_bounds, "_priced_bounds");
    INTERN(s_matrix, "matrix");
    INTERN(s_free_lb, "free_lb");
    INTERN(s_ends, "ends");
    INTERN(s_nexts, "nexts");
    INTERN(s_latest, "latest");
    INTERN(s_durations, "durations");
#undef INTERN
    return PyModule_Create(&module);
}
