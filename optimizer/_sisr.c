/*
 * SISR for plain VRPTW, compiled: the same search as optimizer/vrptw_search.py's Sisr.
 *
 * Why it exists: at 10 s on Solomon's 100-customer instances the pure-Python search runs
 * about 5 k rounds a second and its plans stay 0.67 % above the best known on average,
 * where the same search reaches 0.33 % with three times the rounds (benchmarks/README,
 * issue #19 item 5).  The rounds are all it lacks, so this file runs the very same rounds
 * (string removals with splits, blinks, the order rules, annealing acceptance, the route
 * filter) as plain C loops.  Sisr in vrptw_search.py stays the reference and the fallback
 * when this module was not built; only the random numbers differ (a xoshiro256** stream,
 * not Python's Mersenne Twister), so a seed gives a different but equally drawn run.
 *
 * No clock is read here: the caller's stopping criterion (optimizer.stop) is asked every
 * 16 rounds, as the Python loop does, and gives the share of the budget used, which sets
 * the temperature.
 *
 * Node 0 is the depot, node i the customer i.  A route slot holds the path with both depot
 * visits, the earliest departure from every position but the last (dep), the latest start
 * at every position that keeps the rest feasible (lat, lat[0] a sentinel) and the arc
 * costs (arc); see the Python class docstring.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t i64;
#define NEG_SENTINEL (-(((i64)1) << 62))
#define BIG (((i64)1) << 62)

/* ------------------------------------------------------------------ random numbers */

typedef struct { uint64_t s[4]; } Rng;

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(Rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return result;
}

static void rng_seed(Rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) { /* splitmix64 */
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        r->s[i] = z ^ (z >> 31);
    }
}

static double rng_random(Rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
static double rng_uniform(Rng *r, double a, double b) { return a + (b - a) * rng_random(r); }
/* An integer in [a, b], both included (Python's randint). */
static i64 rng_randint(Rng *r, i64 a, i64 b) {
    i64 span = b - a + 1;
    i64 k = (i64)(rng_random(r) * (double)span);
    return a + (k >= span ? span - 1 : k);
}

/* ------------------------------------------------------------------ search state */

typedef struct {
    int n, N, stride;                 /* customers, nodes (n + 1), slot stride (n + 2) */
    const i64 *tr, *co, *sv, *rd, *du, *dm;
    i64 cap;
    int vehicles;
    double avg_removed, max_string, split_rate, split_depth, blink;
    int route_filter;
    int *adjacent;                    /* n rows of n customers by symmetric cost (itself first) */
    int *nearest;                     /* (n + 1) rows of nf customers */
    int nf;
    /* plan */
    int R, nslots, used;
    int *len, *path, *route_of;
    i64 *dep, *lat, *arc, *load, *rcost;
    /* copies of the slots a round touched */
    char *saved;
    int *saved_list, nsaved;
    int *b_len, *b_path;
    i64 *b_dep, *b_lat, *b_arc, *b_load, *b_rcost;
    /* scratch */
    int *removed, nremoved;
    int *buf, *cand;
    uint32_t *stamp, stamp_now;
    i64 *keys;
    Rng rng;
} S;

#define TR(s, i, j) ((s)->tr[(size_t)(i) * (s)->N + (j)])
#define CO(s, i, j) ((s)->co[(size_t)(i) * (s)->N + (j)])
#define P(s, ri) ((s)->path + (size_t)(ri) * (s)->stride)
#define DEP(s, ri) ((s)->dep + (size_t)(ri) * (s)->stride)
#define LAT(s, ri) ((s)->lat + (size_t)(ri) * (s)->stride)
#define ARC(s, ri) ((s)->arc + (size_t)(ri) * (s)->stride)

/* Slot ri becomes the route visiting cust[0..k-1]: recompute its arrays, load and cost. */
static void set_route(S *s, int ri, const int *cust, int k) {
    int *p = P(s, ri);
    i64 *e = DEP(s, ri), *lt = LAT(s, ri), *arc = ARC(s, ri);
    int L = k + 2;
    p[0] = 0;
    if (k > 0) memmove(p + 1, cust, sizeof(int) * (size_t)k);
    p[L - 1] = 0;
    i64 t = s->rd[0], load = 0, cost = 0;
    e[0] = t;
    int prev = 0;
    for (int i = 1; i < L - 1; i++) {
        int b = p[i];
        cost += CO(s, prev, b);
        t += TR(s, prev, b);
        if (t < s->rd[b]) t = s->rd[b];
        t += s->sv[b];
        e[i] = t;
        load += s->dm[b];
        s->route_of[b] = ri;
        prev = b;
    }
    cost += CO(s, prev, 0);
    i64 z = s->du[0];
    lt[L - 1] = z;
    int nxt = 0;
    for (int i = L - 2; i > 0; i--) {
        int a = p[i];
        z -= s->sv[a] + TR(s, a, nxt);
        if (z > s->du[a]) z = s->du[a];
        lt[i] = z;
        nxt = a;
    }
    lt[0] = NEG_SENTINEL;
    for (int i = 0; i < L - 1; i++) arc[i] = CO(s, p[i], p[i + 1]);
    s->len[ri] = L;
    s->load[ri] = load;
    s->rcost[ri] = cost;
}

static void save_route(S *s, int ri) {
    if (s->saved[ri]) return;
    s->saved[ri] = 1;
    s->saved_list[s->nsaved++] = ri;
    size_t off = (size_t)ri * s->stride;
    int L = s->len[ri];
    s->b_len[ri] = L;
    memcpy(s->b_path + off, s->path + off, sizeof(int) * (size_t)L);
    memcpy(s->b_dep + off, s->dep + off, sizeof(i64) * (size_t)L);
    memcpy(s->b_lat + off, s->lat + off, sizeof(i64) * (size_t)L);
    memcpy(s->b_arc + off, s->arc + off, sizeof(i64) * (size_t)L);
    s->b_load[ri] = s->load[ri];
    s->b_rcost[ri] = s->rcost[ri];
}

static void forget_saved(S *s) {
    for (int k = 0; k < s->nsaved; k++) s->saved[s->saved_list[k]] = 0;
    s->nsaved = 0;
}

static void restore_routes(S *s) {
    for (int k = 0; k < s->nsaved; k++) {
        int ri = s->saved_list[k];
        size_t off = (size_t)ri * s->stride;
        int L = s->b_len[ri];
        s->len[ri] = L;
        memcpy(s->path + off, s->b_path + off, sizeof(int) * (size_t)L);
        memcpy(s->dep + off, s->b_dep + off, sizeof(i64) * (size_t)L);
        memcpy(s->lat + off, s->b_lat + off, sizeof(i64) * (size_t)L);
        memcpy(s->arc + off, s->b_arc + off, sizeof(i64) * (size_t)L);
        s->load[ri] = s->b_load[ri];
        s->rcost[ri] = s->b_rcost[ri];
        for (int i = 1; i < L - 1; i++) s->route_of[s->path[off + i]] = ri;
        s->saved[ri] = 0;
    }
    s->nsaved = 0;
    int used = 0;
    for (int ri = 0; ri < s->nslots; ri++) used += s->len[ri] > 2;
    s->used = used;
}

/* Put customer c into gap g of slot ri (after path position g); delta is the cost change.
 * Departures change from the new visit on, latest starts up to it; each propagation stops
 * where the old value reappears. */
static void insert_at(S *s, int ri, int g, int c, i64 delta) {
    int *p = P(s, ri);
    i64 *e = DEP(s, ri), *lt = LAT(s, ri), *arc = ARC(s, ri);
    int L = s->len[ri];
    int a = p[g], b = p[g + 1];
    memmove(p + g + 2, p + g + 1, sizeof(int) * (size_t)(L - g - 1));
    p[g + 1] = c;
    /* arc has L - 1 entries; the new one goes at g + 1 */
    memmove(arc + g + 2, arc + g + 1, sizeof(i64) * (size_t)(L - 1 - g - 1));
    arc[g] = CO(s, a, c);
    arc[g + 1] = CO(s, c, b);
    int k = L + 1;
    /* dep has L - 1 entries: insert a slot at g + 1 */
    memmove(e + g + 2, e + g + 1, sizeof(i64) * (size_t)(L - 1 - g - 1));
    i64 t = e[g];
    int prev = a;
    for (int i = g + 1; i < k - 1; i++) {
        int x = p[i];
        t += TR(s, prev, x);
        if (t < s->rd[x]) t = s->rd[x];
        t += s->sv[x];
        if (i > g + 1 && t == e[i]) break;
        e[i] = t;
        prev = x;
    }
    /* lat has L entries: insert a slot at g + 1 */
    memmove(lt + g + 2, lt + g + 1, sizeof(i64) * (size_t)(L - g - 1));
    i64 z = lt[g + 2];
    int nxt = b;
    for (int i = g + 1; i > 0; i--) {
        int x = p[i];
        z -= s->sv[x] + TR(s, x, nxt);
        if (z > s->du[x]) z = s->du[x];
        if (i < g + 1 && z == lt[i]) break;
        lt[i] = z;
        nxt = x;
    }
    s->len[ri] = k;
    s->load[ri] += s->dm[c];
    s->rcost[ri] += delta;
    s->route_of[c] = ri;
}

/* A fresh mark for "seen this round" (cleared when the counter wraps: after about 20 minutes
 * of rounds at full speed). */
static void bump_stamp(S *s) {
    if (++s->stamp_now == 0) { memset(s->stamp, 0, sizeof(uint32_t) * (size_t)s->R); s->stamp_now = 1; }
}

/* ------------------------------------------------------------------ ruin */

static int ruin(S *s) {
    Rng *rng = &s->rng;
    s->nremoved = 0;
    if (!s->used) return 0;
    double mean_len = (double)s->n / s->used;
    double ls_max = s->max_string < mean_len ? s->max_string : mean_len;
    double ks_max = 4.0 * s->avg_removed / (1.0 + ls_max) - 1.0;
    int ks = (int)rng_uniform(rng, 1.0, ks_max + 1.0);
    int seed = (int)rng_randint(rng, 1, s->n);
    int nruined = 0;
    const int *adj = s->adjacent + (size_t)(seed - 1) * s->n;
    bump_stamp(s);
    for (int j = 0; j < s->n; j++) {
        if (nruined >= ks) break;
        int c = adj[j];
        int ri = s->route_of[c];
        if (ri < 0 || s->stamp[ri] == s->stamp_now) continue;
        int *p = P(s, ri);
        int len = s->len[ri] - 2;
        const int *route = p + 1;
        double lt_max = len < ls_max ? (double)len : ls_max;
        int lt = (int)rng_uniform(rng, 1.0, lt_max + 1.0);
        int pos = 0;
        while (route[pos] != c) pos++;
        int nrest = 0;
        int *rest = s->buf;
        if (lt < len && rng_random(rng) < s->split_rate) {
            int m = 1;
            while (lt + m < len && rng_random(rng) < s->split_depth) m++;
            int span = lt + m;
            int lo_min = pos - span + 1 > 0 ? pos - span + 1 : 0;
            int lo_max = pos < len - span ? pos : len - span;
            int lo = (int)rng_randint(rng, lo_min, lo_max);
            int keep = (int)rng_randint(rng, 0, lt);
            for (int i = 0; i < lo; i++) rest[nrest++] = route[i];
            for (int i = 0; i < span; i++) {
                int x = route[lo + i];
                if (i >= keep && i < keep + m) rest[nrest++] = x;
                else s->removed[s->nremoved++] = x;
            }
            for (int i = lo + span; i < len; i++) rest[nrest++] = route[i];
        } else {
            int lo_min = pos - lt + 1 > 0 ? pos - lt + 1 : 0;
            int lo_max = pos < len - lt ? pos : len - lt;
            int lo = (int)rng_randint(rng, lo_min, lo_max);
            for (int i = 0; i < lo; i++) rest[nrest++] = route[i];
            for (int i = lo; i < lo + lt; i++) s->removed[s->nremoved++] = route[i];
            for (int i = lo + lt; i < len; i++) rest[nrest++] = route[i];
        }
        save_route(s, ri);
        set_route(s, ri, rest, nrest);
        if (!nrest) s->used--;
        s->stamp[ri] = s->stamp_now;
        nruined++;
    }
    for (int k = 0; k < s->nremoved; k++) s->route_of[s->removed[k]] = -1;
    return s->nremoved;
}

/* ------------------------------------------------------------------ recreate */

/* Stable sort of the removed customers by keys (ascending), as Python's sort. */
static void sort_removed(S *s) {
    int n = s->nremoved;
    int *a = s->removed;
    i64 *k = s->keys;
    for (int i = 1; i < n; i++) { /* insertion sort: a round removes about ten */
        int x = a[i];
        i64 kx = k[i];
        int j = i - 1;
        while (j >= 0 && k[j] > kx) { a[j + 1] = a[j]; k[j + 1] = k[j]; j--; }
        a[j + 1] = x;
        k[j + 1] = kx;
    }
}

static void order_removed(S *s) {
    Rng *rng = &s->rng;
    double r = rng_random(rng) * 11.0; /* weights 4, 4, 2, 1 */
    int pick = r < 4.0 ? 0 : r < 8.0 ? 1 : r < 10.0 ? 2 : 3;
    int n = s->nremoved;
    if (pick == 0) {
        for (int i = n - 1; i > 0; i--) {
            int j = (int)rng_randint(rng, 0, i);
            int t = s->removed[i]; s->removed[i] = s->removed[j]; s->removed[j] = t;
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        int c = s->removed[i];
        s->keys[i] = pick == 1 ? -s->dm[c] : pick == 2 ? -CO(s, 0, c) : CO(s, 0, c);
    }
    sort_removed(s);
}

/* First index in a[0..n) with a[i] >= x. */
static int lower_bound(const i64 *a, int n, i64 x) {
    int lo = 0, hi = n;
    while (lo < hi) { int mid = (lo + hi) >> 1; if (a[mid] < x) lo = mid + 1; else hi = mid; }
    return lo;
}

/* First index in a[0..n) with a[i] > x. */
static int upper_bound(const i64 *a, int n, i64 x) {
    int lo = 0, hi = n;
    while (lo < hi) { int mid = (lo + hi) >> 1; if (a[mid] <= x) lo = mid + 1; else hi = mid; }
    return lo;
}

static int cmp_int(const void *x, const void *y) { return *(const int *)x - *(const int *)y; }

/* Insert the removed customers greedily (cheapest feasible gap, each gap skipped with
 * probability blink); the total cost change in *total, 0 if one does not fit. */
static int recreate(S *s, i64 *total) {
    Rng *rng = &s->rng;
    order_removed(s);
    *total = 0;
    for (int q = 0; q < s->nremoved; q++) {
        int c = s->removed[q];
        i64 rc = s->rd[c], dc = s->du[c], d = s->dm[c];
        i64 room = s->cap - d;
        i64 low = rc + s->sv[c];
        i64 best = BIG;
        int bri = -1, bg = -1;
        int ncand = 0;
        bump_stamp(s);
        if (s->route_filter) {
            const int *near = s->nearest + (size_t)c * s->nf;
            for (int j = 0; j < s->nf; j++) {
                int ri = s->route_of[near[j]];
                if (ri >= 0 && s->stamp[ri] != s->stamp_now) { s->stamp[ri] = s->stamp_now; s->cand[ncand++] = ri; }
            }
            qsort(s->cand, (size_t)ncand, sizeof(int), cmp_int);
        } else {
            for (int ri = 0; ri < s->nslots; ri++) s->cand[ncand++] = ri;
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            if (attempt) { /* nothing fits near the customer: try every other route */
                if (bri >= 0 || !s->route_filter) break;
                ncand = 0;
                for (int ri = 0; ri < s->nslots; ri++)
                    if (s->stamp[ri] != s->stamp_now) s->cand[ncand++] = ri;
            }
            for (int k = 0; k < ncand; k++) {
                int ri = s->cand[k];
                int L = s->len[ri];
                if (L == 2 || s->load[ri] > room) continue;
                const int *p = P(s, ri);
                const i64 *e = DEP(s, ri), *lt = LAT(s, ri), *arc = ARC(s, ri);
                int lo = lower_bound(lt, L, low) - 1;
                int hi = upper_bound(e, L - 1, dc);
                for (int g = lo; g < hi; g++) {
                    int a = p[g], b = p[g + 1];
                    i64 dl = CO(s, a, c) + CO(s, c, b) - arc[g];
                    if (dl >= best) continue;
                    i64 t = e[g] + TR(s, a, c);
                    if (t < rc) t = rc;
                    if (t > dc || t + s->sv[c] + TR(s, c, b) > lt[g + 1]) continue;
                    if (s->blink > 0 && rng_random(rng) < s->blink) continue;
                    best = dl; bri = ri; bg = g;
                }
            }
        }
        if (s->used < s->vehicles && d <= s->cap) {
            i64 t = s->rd[0] + TR(s, 0, c);
            if (t < rc) t = rc;
            if (t <= dc && t + s->sv[c] + TR(s, c, 0) <= s->du[0]) {
                i64 dl = CO(s, 0, c) + CO(s, c, 0);
                if (dl < best) {
                    int empty = -1;
                    for (int ri = 0; ri < s->nslots; ri++) if (s->len[ri] == 2) { empty = ri; break; }
                    if (empty < 0) {
                        empty = s->nslots++;
                        set_route(s, empty, NULL, 0);
                    }
                    best = dl; bri = empty; bg = 0;
                }
            }
        }
        if (bri < 0) return 0;
        save_route(s, bri);
        if (s->len[bri] == 2) s->used++;
        insert_at(s, bri, bg, c, best);
        *total += best;
    }
    return 1;
}

/* ------------------------------------------------------------------ set-up and driver */

static void free_state(S *s) {
    void *ptrs[] = {s->adjacent, s->nearest, s->len, s->path, s->route_of, s->dep, s->lat, s->arc, s->load,
                    s->rcost, s->saved, s->saved_list, s->b_len, s->b_path, s->b_dep, s->b_lat, s->b_arc,
                    s->b_load, s->b_rcost, s->removed, s->buf, s->cand, s->stamp, s->keys};
    for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++) free(ptrs[i]);
}

static const i64 *sort_key_row;
static int cmp_by_key(const void *x, const void *y) {
    int a = *(const int *)x, b = *(const int *)y;
    i64 ka = sort_key_row[a], kb = sort_key_row[b];
    if (ka != kb) return ka < kb ? -1 : 1;
    return a - b; /* stable: numpy's argsort(kind="stable") keeps index order on ties */
}

/* Take the routes list (lists of customer numbers); returns 0 and sets a Python error on bad input. */
static int load_routes(S *s, PyObject *routes) {
    PyObject *seq = PySequence_Fast(routes, "routes must be a sequence of lists");
    if (!seq) return 0;
    Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
    s->nslots = 0;
    for (int c = 0; c <= s->n; c++) s->route_of[c] = -1;
    for (Py_ssize_t i = 0; i < m; i++) {
        PyObject *r = PySequence_Fast(PySequence_Fast_GET_ITEM(seq, i), "each route must be a sequence");
        if (!r) { Py_DECREF(seq); return 0; }
        Py_ssize_t k = PySequence_Fast_GET_SIZE(r);
        if (k == 0) { Py_DECREF(r); continue; }
        if (s->nslots >= s->R || k > s->n) {
            Py_DECREF(r); Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "more routes or customers than the instance has");
            return 0;
        }
        for (Py_ssize_t j = 0; j < k; j++) {
            long c = PyLong_AsLong(PySequence_Fast_GET_ITEM(r, j));
            if (c == -1 && PyErr_Occurred()) { Py_DECREF(r); Py_DECREF(seq); return 0; }
            if (c < 1 || c > s->n) {
                Py_DECREF(r); Py_DECREF(seq);
                PyErr_Format(PyExc_ValueError, "customer %ld out of range 1..%d", c, s->n);
                return 0;
            }
            if (s->route_of[c] >= 0) { /* (each customer once: a repeat would overfill a route's arrays) */
                Py_DECREF(r); Py_DECREF(seq);
                PyErr_Format(PyExc_ValueError, "customer %ld is in the routes twice", c);
                return 0;
            }
            s->route_of[c] = s->nslots; /* marked now; set_route marks it again */
            s->buf[j] = (int)c;
        }
        set_route(s, s->nslots++, s->buf, (int)k);
        Py_DECREF(r);
    }
    Py_DECREF(seq);
    s->used = s->nslots;
    return 1;
}

static void copy_plan(S *s, int *dst_len, int *dst_path) {
    for (int ri = 0; ri < s->nslots; ri++) {
        dst_len[ri] = s->len[ri];
        memcpy(dst_path + (size_t)ri * s->stride, P(s, ri), sizeof(int) * (size_t)s->len[ri]);
    }
}

static PyObject *plan_to_list(S *s, int nslots, const int *lens, const int *paths) {
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    for (int ri = 0; ri < nslots; ri++) {
        int L = lens[ri];
        if (L <= 2) continue;
        PyObject *r = PyList_New(L - 2);
        if (!r) { Py_DECREF(out); return NULL; }
        for (int i = 1; i < L - 1; i++) {
            PyObject *v = PyLong_FromLong(paths[(size_t)ri * s->stride + i]);
            if (!v) { Py_DECREF(r); Py_DECREF(out); return NULL; }
            PyList_SET_ITEM(r, i - 1, v);
        }
        if (PyList_Append(out, r) < 0) { Py_DECREF(r); Py_DECREF(out); return NULL; }
        Py_DECREF(r);
    }
    return out;
}

/* Ask the stopping criterion: -1 on a Python error, 1 to stop, 0 to go on; *frac gets its
 * share of the budget used (0 when it has none). */
static int ask_stop(PyObject *stop, double *frac) {
    PyObject *r = PyObject_CallNoArgs(stop);
    if (!r) return -1;
    int yes = PyObject_IsTrue(r);
    Py_DECREF(r);
    if (yes) return yes;
    PyObject *f = PyObject_CallMethod(stop, "fraction", NULL);
    if (!f) return -1;
    *frac = f == Py_None ? 0.0 : PyFloat_AsDouble(f);
    Py_DECREF(f);
    if (*frac == -1.0 && PyErr_Occurred()) return -1;
    return 0;
}

#define ALLOC(ptr, count, type) do { (ptr) = (type *)calloc((size_t)(count) > 0 ? (size_t)(count) : 1, sizeof(type)); \
    if (!(ptr)) { PyErr_NoMemory(); goto fail; } } while (0)

static PyObject *sisr_run(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"travel", "cost", "service", "ready", "due", "demand", "capacity", "vehicles",
                             "routes", "seed", "avg_removed", "max_string", "split_rate", "split_depth",
                             "blink", "route_filter", "t0", "tf", "stop", "max_iterations", NULL};
    Py_buffer btr = {0}, bco = {0}, bsv = {0}, brd = {0}, bdu = {0}, bdm = {0};
    long long capacity, seed, max_it = -1;
    int vehicles, route_filter;
    double avg_removed, max_string, split_rate, split_depth, blink, t0, tf;
    PyObject *routes, *stop = Py_None, *max_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*y*y*y*y*y*LiOLdddddiddOO", kwlist, &btr, &bco, &bsv, &brd,
                                     &bdu, &bdm, &capacity, &vehicles, &routes, &seed, &avg_removed,
                                     &max_string, &split_rate, &split_depth, &blink, &route_filter, &t0, &tf,
                                     &stop, &max_obj))
        return NULL;
    S s;
    memset(&s, 0, sizeof(s));
    PyObject *result = NULL;
    int *best_len = NULL, *best_path = NULL;
    int n = (int)(bsv.len / (Py_ssize_t)sizeof(i64)) - 1;
    if (n < 1 || brd.len != bsv.len || bdu.len != bsv.len || bdm.len != bsv.len
        || btr.len != (Py_ssize_t)((size_t)(n + 1) * (n + 1) * sizeof(i64)) || bco.len != btr.len) {
        PyErr_SetString(PyExc_ValueError, "arrays must be int64: (n + 1) x (n + 1) matrices and n + 1 vectors");
        goto done;
    }
    if (max_obj != Py_None) {
        max_it = PyLong_AsLongLong(max_obj);
        if (max_it == -1 && PyErr_Occurred()) goto done;
    }
    if (stop == Py_None && max_it < 0) {
        PyErr_SetString(PyExc_ValueError, "give a stopping criterion or max_iterations");
        goto done;
    }
    if (!(avg_removed >= 1.0 && avg_removed <= 1000.0) || !(max_string >= 1.0) || !(blink >= 0.0 && blink < 1.0)
        || !(split_rate >= 0.0 && split_rate <= 1.0) || !(split_depth >= 0.0 && split_depth < 1.0)) {
        PyErr_SetString(PyExc_ValueError, "avg_removed must be in 1..1000, max_string at least 1, blink and "
                                          "split_depth in [0, 1), split_rate in [0, 1]");
        goto done;
    }
    s.n = n; s.N = n + 1; s.stride = n + 2;
    s.tr = btr.buf; s.co = bco.buf; s.sv = bsv.buf; s.rd = brd.buf; s.du = bdu.buf; s.dm = bdm.buf;
    s.cap = capacity; s.vehicles = vehicles;
    s.avg_removed = avg_removed; s.max_string = max_string; s.split_rate = split_rate;
    s.split_depth = split_depth; s.blink = blink; s.route_filter = route_filter > 0 ? route_filter : 0;
    s.R = n; /* a plan never has more non-empty routes than customers, nor reuses fewer slots */
    size_t cells = (size_t)s.R * s.stride;
    ALLOC(s.adjacent, (size_t)n * n, int);
    s.nf = s.route_filter < n - 1 ? s.route_filter : n - 1;
    ALLOC(s.nearest, (size_t)(n + 1) * (s.nf > 0 ? s.nf : 1), int);
    ALLOC(s.len, s.R, int); ALLOC(s.path, cells, int); ALLOC(s.route_of, n + 1, int);
    ALLOC(s.dep, cells, i64); ALLOC(s.lat, cells, i64); ALLOC(s.arc, cells, i64);
    ALLOC(s.load, s.R, i64); ALLOC(s.rcost, s.R, i64);
    ALLOC(s.saved, s.R, char); ALLOC(s.saved_list, s.R, int);
    ALLOC(s.b_len, s.R, int); ALLOC(s.b_path, cells, int);
    ALLOC(s.b_dep, cells, i64); ALLOC(s.b_lat, cells, i64); ALLOC(s.b_arc, cells, i64);
    ALLOC(s.b_load, s.R, i64); ALLOC(s.b_rcost, s.R, i64);
    ALLOC(s.removed, n + 1, int); ALLOC(s.buf, n + 2, int);
    ALLOC(s.cand, s.R, int); ALLOC(s.stamp, s.R, uint32_t); ALLOC(s.keys, n + 1, i64);
    ALLOC(best_len, s.R, int); ALLOC(best_path, cells, int);
    {
        /* Customers by symmetric arc cost from each customer (itself first, ties by number). */
        i64 *sym;
        ALLOC(sym, (size_t)(n + 1), i64);
        int *idx;
        idx = (int *)malloc(sizeof(int) * (size_t)n);
        if (!idx) { free(sym); PyErr_NoMemory(); goto fail; }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) { sym[j] = CO(&s, i + 1, j + 1) + CO(&s, j + 1, i + 1); idx[j] = j; }
            sort_key_row = sym;
            qsort(idx, (size_t)n, sizeof(int), cmp_by_key);
            for (int j = 0; j < n; j++) s.adjacent[(size_t)i * n + j] = idx[j] + 1;
            for (int j = 0; j < s.nf; j++) s.nearest[(size_t)(i + 1) * s.nf + j] = idx[j + 1] + 1;
        }
        free(idx);
        free(sym);
    }
    rng_seed(&s.rng, (uint64_t)seed);
    if (!load_routes(&s, routes)) goto done;

    i64 cost = 0;
    int arcs = 0;
    for (int ri = 0; ri < s.nslots; ri++) { cost += s.rcost[ri]; arcs += s.len[ri] - 1; }
    if (!arcs) arcs = 1;
    i64 start_cost = cost, best_cost = cost;
    int best_slots = s.nslots;
    copy_plan(&s, best_len, best_path);
    double mean_arc = (double)cost / arcs;
    double hot = t0 * mean_arc > 1e-9 ? t0 * mean_arc : 1e-9;
    double cold = tf * mean_arc > 1e-9 ? tf * mean_arc : 1e-9;
    double temp = hot, frac = 0.0;
    long long it = 0, accepted = 0, improvements = 0;
    for (;;) {
        if (max_it >= 0 && it >= max_it) break;
        if (stop != Py_None && (it & 15) == 0) {
            int r = ask_stop(stop, &frac);
            if (r < 0) goto done;
            if (r) break;
            temp = hot * pow(cold / hot, frac);
        } else if (stop == Py_None) {
            frac = (double)it / (double)max_it;
            temp = hot * pow(cold / hot, frac);
        }
        it++;
        i64 before = cost;
        if (!ruin(&s)) { restore_routes(&s); continue; }
        i64 ruined_delta = 0;
        for (int k = 0; k < s.nsaved; k++) {
            int ri = s.saved_list[k];
            ruined_delta += s.rcost[ri] - s.b_rcost[ri];
        }
        i64 delta;
        if (!recreate(&s, &delta)) { restore_routes(&s); continue; }
        i64 new_cost = before + ruined_delta + delta;
        double u = rng_random(&s.rng);
        if (u <= 0.0) u = 1e-300;
        if ((double)new_cost < (double)cost - temp * log(u)) {
            forget_saved(&s);
            cost = new_cost;
            accepted++;
            if (cost < best_cost) {
                best_cost = cost;
                best_slots = s.nslots;
                copy_plan(&s, best_len, best_path);
                improvements++;
            }
        } else {
            restore_routes(&s);
        }
    }
    {
        PyObject *plan = plan_to_list(&s, best_slots, best_len, best_path);
        if (!plan) goto done;
        result = Py_BuildValue("(NLLLLL)", plan, it, accepted, improvements, (long long)start_cost,
                               (long long)best_cost);
    }
    goto done;
fail:
done:
    free(best_len);
    free(best_path);
    free_state(&s);
    PyBuffer_Release(&btr); PyBuffer_Release(&bco); PyBuffer_Release(&bsv);
    PyBuffer_Release(&brd); PyBuffer_Release(&bdu); PyBuffer_Release(&bdm);
    return result;
}

static PyMethodDef methods[] = {
    {"run", (PyCFunction)(void (*)(void))sisr_run, METH_VARARGS | METH_KEYWORDS,
     "run(travel, cost, service, ready, due, demand, capacity, vehicles, routes, seed, avg_removed, max_string, "
     "split_rate, split_depth, blink, route_filter, t0, tf, stop, max_iterations) -> "
     "(routes, iterations, accepted, improvements, start_cost, best_cost)\n\n"
     "SISR from a feasible plan (see optimizer/vrptw_search.py): int64 buffers for the matrices and vectors."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "optimizer._sisr",
                                    "SISR for plain VRPTW in C (the rounds of optimizer.vrptw_search.Sisr).", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__sisr(void) { return PyModule_Create(&module); }
