/*
 * Ruin and recreate with annealing for "plain linked" days, compiled (optimizer.linked_search).
 *
 * Why it exists: on days where many visits are tied to another (two carers at once, a visit a
 * set time after another: the Mankowska et al. home-care family) our general LNS
 * (optimizer.lns) re-times whole routes in Python and runs a few hundred rounds a second; the
 * published best plans are found by searches that run millions of moves.  The days this
 * covers are simple otherwise (see linked_search.plain_linked_day): every visit mandatory, one
 * window, one worker each; one shift per worker without breaks; dependencies with a minimum and
 * an optional maximum delay, optionally on different workers; cost = travel + lateness + the
 * largest lateness.  So the rounds can run as plain C loops.
 *
 * Timing: with the routes fixed, every rule is a lower bound on a start (a window's opening,
 * the arrival from the stop before, a dependency's delay from the other visit's start), so
 * the earliest schedule is the least fixed point of those bounds, found by passes over the
 * routes and the dependencies (a positive cycle of bounds never settles: no schedule).  The
 * earliest schedule is also the cheapest one for that order: lateness only grows with a start.
 * Inserting a visit only adds bounds, so no start moves earlier; an insertion is priced by
 * resuming its route's pass at the insertion and stopping where a start is unchanged, and
 * only when the change reaches a linked visit by a full fixed point on a scratch copy.
 *
 * Ruin: strings of consecutive visits from the routes passing nearest a random visit (SISR,
 * Christiaens and Vanden Berghe 2020), each removed visit's linked visits with it.  Recreate:
 * greedy cheapest insertion in one of four orders, each position skipped with a small
 * probability.  Accept: simulated annealing, temperature falling with the share of the
 * caller's budget used.  No clock is read here: the caller's stopping criterion is asked every
 * 8 rounds.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t i64;
#define NONE_DELAY (((i64)1) << 60)
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
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        r->s[i] = z ^ (z >> 31);
    }
}
static double rng_random(Rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
static int rng_int(Rng *r, int a, int b) { /* in [a, b] */
    int span = b - a + 1;
    int k = (int)(rng_random(r) * span);
    return a + (k >= span ? span - 1 : k);
}

/* ------------------------------------------------------------------ the day and the plan */

typedef struct {
    /* the day */
    int nv, nw, nl, nd;
    const i64 *tt;                     /* nl x nl travel minutes */
    i64 w_travel, w_late, w_max;
    const i64 *vloc, *dur, *open, *due, *latest; /* per visit; latest: last allowed start */
    const i64 *wstart, *wend, *sstart, *send;    /* per worker: places and shift */
    const char *elig;                  /* nv x nw */
    const i64 *dx, *dy, *dmin, *dmax, *ddiff;    /* per dependency */
    int *adj_off, *adj;                /* per visit: its dependencies (CSR) */
    int *near;                         /* nv x nv: visits by travel from each (itself first) */
    /* the plan */
    int stride;                        /* nv */
    int *rlen, *route;                 /* nw routes of visits */
    int *wof, *pos;                    /* per visit: worker (-1: not placed), position */
    i64 *st, *lb, *rend;               /* starts, lower bounds of the fixed point, route ends */
    i64 travel, late_sum, late_max, cost;
    /* a copy to go back to */
    int *b_rlen, *b_route, *b_wof, *b_pos;
    i64 *b_st, *b_lb, *b_rend;
    i64 b_travel, b_late_sum, b_late_max, b_cost;
    /* scratch */
    i64 *x_st, *x_lb, *x_rend;
    int *x_route;                      /* one modified route */
    int *removed, nremoved;
    i64 *keys;
    uint32_t *stamp, stamp_now;
    /* search settings */
    double avg_removed, max_string, blink;
    Rng rng;
} H;

#define TT(h, a, b) ((h)->tt[(size_t)(a) * (h)->nl + (b)])
#define ROUTE(h, w) ((h)->route + (size_t)(w) * (h)->stride)

static i64 late_of(const H *h, int v, i64 s) { i64 x = s - h->due[v]; return x > 0 ? x : 0; }

/* The earliest schedule of the plan, with route ``mw`` replaced by ``mroute[0..mlen)`` (mw < 0:
 * no replacement) and visit ``extra`` counted as placed on ``mw`` (extra < 0: none).  Fills
 * st, lb, rend (indexed like the plan's) and the cost terms; returns 0 if there is no schedule
 * (a cycle of bounds, a start after its latest, a route ending after its shift). */
static int fixed_point(H *h, int mw, const int *mroute, int mlen, int extra,
                       i64 *st, i64 *lb, i64 *rend, i64 *travel_out, i64 *late_sum_out, i64 *late_max_out) {
    int nw = h->nw;
    i64 travel = 0;
    for (int w = 0; w < nw; w++) {
        const int *r = w == mw ? mroute : ROUTE(h, w);
        int len = w == mw ? mlen : h->rlen[w];
        i64 prev = h->wstart[w];
        for (int i = 0; i < len; i++) { int v = r[i]; lb[v] = h->open[v]; travel += TT(h, prev, h->vloc[v]); prev = h->vloc[v]; }
        if (len) travel += TT(h, prev, h->wend[w]);
    }
    int limit = h->nd + 2;
    int changed = 1;
    for (int it = 0; changed; it++) {
        if (it > limit) return 0;
        for (int w = 0; w < nw; w++) {
            const int *r = w == mw ? mroute : ROUTE(h, w);
            int len = w == mw ? mlen : h->rlen[w];
            i64 t = h->sstart[w], prev = h->wstart[w];
            for (int i = 0; i < len; i++) {
                int v = r[i];
                i64 a = t + TT(h, prev, h->vloc[v]);
                i64 s = a > lb[v] ? a : lb[v];
                st[v] = s;
                t = s + h->dur[v];
                prev = h->vloc[v];
            }
            rend[w] = len ? t + TT(h, prev, h->wend[w]) : h->sstart[w];
        }
        changed = 0;
        for (int d = 0; d < h->nd; d++) {
            int x = (int)h->dx[d], y = (int)h->dy[d];
            int px = h->wof[x] >= 0 || x == extra, py = h->wof[y] >= 0 || y == extra;
            if (!px || !py) continue;
            if (st[y] < st[x] + h->dmin[d]) { lb[y] = st[x] + h->dmin[d]; changed = 1; }
            if (h->dmax[d] < NONE_DELAY && st[x] < st[y] - h->dmax[d]) { lb[x] = st[y] - h->dmax[d]; changed = 1; }
        }
    }
    i64 late_sum = 0, late_max = 0;
    for (int w = 0; w < nw; w++) {
        const int *r = w == mw ? mroute : ROUTE(h, w);
        int len = w == mw ? mlen : h->rlen[w];
        if (rend[w] > h->send[w]) return 0;
        for (int i = 0; i < len; i++) {
            int v = r[i];
            if (st[v] > h->latest[v]) return 0;
            i64 l = late_of(h, v, st[v]);
            late_sum += l;
            if (l > late_max) late_max = l;
        }
    }
    *travel_out = travel; *late_sum_out = late_sum; *late_max_out = late_max;
    return 1;
}

static i64 price(const H *h, i64 travel, i64 late_sum, i64 late_max) {
    return h->w_travel * travel + h->w_late * late_sum + h->w_max * late_max;
}

/* Re-time the whole plan (after a change); 0 if it has no schedule. */
static int retime(H *h) {
    i64 tr, ls, lm;
    if (!fixed_point(h, -1, NULL, 0, -1, h->st, h->lb, h->rend, &tr, &ls, &lm)) return 0;
    h->travel = tr; h->late_sum = ls; h->late_max = lm; h->cost = price(h, tr, ls, lm);
    return 1;
}

static void save(H *h) {
    size_t nv = (size_t)h->nv, nw = (size_t)h->nw;
    memcpy(h->b_rlen, h->rlen, sizeof(int) * nw);
    for (size_t w = 0; w < nw; w++) memcpy(h->b_route + w * h->stride, ROUTE(h, w), sizeof(int) * (size_t)h->rlen[w]);
    memcpy(h->b_wof, h->wof, sizeof(int) * nv); memcpy(h->b_pos, h->pos, sizeof(int) * nv);
    memcpy(h->b_st, h->st, sizeof(i64) * nv); memcpy(h->b_lb, h->lb, sizeof(i64) * nv);
    memcpy(h->b_rend, h->rend, sizeof(i64) * nw);
    h->b_travel = h->travel; h->b_late_sum = h->late_sum; h->b_late_max = h->late_max; h->b_cost = h->cost;
}

static void restore(H *h) {
    size_t nv = (size_t)h->nv, nw = (size_t)h->nw;
    memcpy(h->rlen, h->b_rlen, sizeof(int) * nw);
    for (size_t w = 0; w < nw; w++) memcpy(ROUTE(h, w), h->b_route + w * h->stride, sizeof(int) * (size_t)h->rlen[w]);
    memcpy(h->wof, h->b_wof, sizeof(int) * nv); memcpy(h->pos, h->b_pos, sizeof(int) * nv);
    memcpy(h->st, h->b_st, sizeof(i64) * nv); memcpy(h->lb, h->b_lb, sizeof(i64) * nv);
    memcpy(h->rend, h->b_rend, sizeof(i64) * nw);
    h->travel = h->b_travel; h->late_sum = h->b_late_sum; h->late_max = h->b_late_max; h->cost = h->b_cost;
}

/* ------------------------------------------------------------------ pricing an insertion */

/* The cost change of putting v at position g of worker w's route; BIG if not feasible.
 * ``bound``: the caller's best so far (positions that cannot beat it may be cut short). */
static i64 insertion_delta(H *h, int v, int w, int g, i64 bound) {
    const int *r = ROUTE(h, w);
    int len = h->rlen[w];
    i64 prevloc, t;
    if (g == 0) { t = h->sstart[w]; prevloc = h->wstart[w]; }
    else { int u = r[g - 1]; t = h->st[u] + h->dur[u]; prevloc = h->vloc[u]; }
    i64 nextloc = g < len ? h->vloc[r[g]] : h->wend[w];
    /* (an empty route travels nothing: opening it costs the whole way out and back) */
    i64 dtravel = TT(h, prevloc, h->vloc[v]) + TT(h, h->vloc[v], nextloc) - (len ? TT(h, prevloc, nextloc) : 0);
    i64 base = h->w_travel * dtravel;
    if (base >= bound) return BIG; /* lateness only grows: this position cannot win */
    /* The visit's own start and whether a placed partner would have to move. */
    i64 s = t + TT(h, prevloc, h->vloc[v]);
    if (s < h->open[v]) s = h->open[v];
    int full = 0;
    for (int k = h->adj_off[v]; k < h->adj_off[v + 1]; k++) {
        int d = h->adj[k];
        int x = (int)h->dx[d], y = (int)h->dy[d];
        int other = x == v ? y : x;
        if (h->wof[other] < 0) continue;
        if (h->ddiff[d] && h->wof[other] == w) return BIG;
        if (h->wof[other] == w) { full = 1; continue; }
        if (v == y) {
            if (s < h->st[x] + h->dmin[d]) s = h->st[x] + h->dmin[d];
        } else if (h->dmax[d] < NONE_DELAY && s < h->st[y] - h->dmax[d]) {
            s = h->st[y] - h->dmax[d];
        }
    }
    if (!full) {
        for (int k = h->adj_off[v]; k < h->adj_off[v + 1] && !full; k++) {
            int d = h->adj[k];
            int x = (int)h->dx[d], y = (int)h->dy[d];
            int other = x == v ? y : x;
            if (h->wof[other] < 0) continue;
            if (v == y) { if (h->dmax[d] < NONE_DELAY && s > h->st[x] + h->dmax[d]) full = 1; }
            else if (h->st[y] < s + h->dmin[d]) full = 1;
        }
    }
    if (!full) {
        if (s > h->latest[v]) return BIG;
        i64 lv = late_of(h, v, s);
        i64 dlate = lv, newmax = h->late_max > lv ? h->late_max : lv;
        t = s + h->dur[v];
        prevloc = h->vloc[v];
        int settled = 0;
        for (int i = g; i < len; i++) {
            int u = r[i];
            i64 a = t + TT(h, prevloc, h->vloc[u]);
            i64 su = a > h->lb[u] ? a : h->lb[u];
            if (su == h->st[u]) { settled = 1; break; }
            if (su < h->st[u] || h->adj_off[u + 1] > h->adj_off[u]) { full = 1; break; }
            if (su > h->latest[u]) return BIG;
            i64 lu = late_of(h, u, su);
            dlate += lu - late_of(h, u, h->st[u]);
            if (lu > newmax) newmax = lu;
            t = su + h->dur[u];
            prevloc = h->vloc[u];
            if (base + h->w_late * dlate + h->w_max * (newmax - h->late_max) >= bound) return BIG;
        }
        if (!full) {
            if (!settled && t + TT(h, prevloc, h->wend[w]) > h->send[w]) return BIG;
            return base + h->w_late * dlate + h->w_max * (newmax - h->late_max);
        }
    }
    /* The change reaches a linked visit: the whole plan's fixed point, on a scratch copy. */
    int *m = h->x_route;
    memcpy(m, r, sizeof(int) * (size_t)g);
    m[g] = v;
    memcpy(m + g + 1, r + g, sizeof(int) * (size_t)(len - g));
    i64 tr, ls, lm;
    if (!fixed_point(h, w, m, len + 1, v, h->x_st, h->x_lb, h->x_rend, &tr, &ls, &lm)) return BIG;
    return price(h, tr, ls, lm) - h->cost;
}

static void place(H *h, int v, int w, int g) {
    int *r = ROUTE(h, w);
    int len = h->rlen[w];
    memmove(r + g + 1, r + g, sizeof(int) * (size_t)(len - g));
    r[g] = v;
    h->rlen[w] = len + 1;
    for (int i = g; i <= len; i++) h->pos[r[i]] = i;
    h->wof[v] = w;
}

static void take_out(H *h, int v) {
    int w = h->wof[v];
    if (w < 0) return;
    int *r = ROUTE(h, w);
    int len = h->rlen[w], g = h->pos[v];
    memmove(r + g, r + g + 1, sizeof(int) * (size_t)(len - g - 1));
    h->rlen[w] = len - 1;
    for (int i = g; i < len - 1; i++) h->pos[r[i]] = i;
    h->wof[v] = -1;
    h->removed[h->nremoved++] = v;
}

/* ------------------------------------------------------------------ ruin and recreate */

static void take_out_linked(H *h, int v) {
    /* v and, transitively, every placed visit linked to it */
    int first = h->nremoved;
    take_out(h, v);
    for (int q = first; q < h->nremoved; q++) {
        int x = h->removed[q];
        for (int k = h->adj_off[x]; k < h->adj_off[x + 1]; k++) {
            int d = h->adj[k];
            int o = (int)(h->dx[d] == x ? h->dy[d] : h->dx[d]);
            if (h->wof[o] >= 0) take_out(h, o);
        }
    }
}

static void ruin(H *h) {
    Rng *rng = &h->rng;
    h->nremoved = 0;
    int used = 0, placed = 0;
    for (int w = 0; w < h->nw; w++) { used += h->rlen[w] > 0; placed += h->rlen[w]; }
    if (!used) return;
    double mean_len = (double)placed / used;
    double ls_max = h->max_string < mean_len ? h->max_string : mean_len;
    double ks_max = 4.0 * h->avg_removed / (1.0 + ls_max) - 1.0;
    int ks = (int)(1.0 + rng_random(rng) * ks_max);
    if (ks < 1) ks = 1;
    int seed;
    do { seed = rng_int(rng, 0, h->nv - 1); } while (h->wof[seed] < 0);
    if (++h->stamp_now == 0) { memset(h->stamp, 0, sizeof(uint32_t) * (size_t)h->nw); h->stamp_now = 1; }
    int ruined = 0;
    const int *near = h->near + (size_t)seed * h->nv;
    for (int j = 0; j < h->nv && ruined < ks; j++) {
        int c = near[j];
        int w = h->wof[c];
        if (w < 0 || h->stamp[w] == h->stamp_now) continue;
        h->stamp[w] = h->stamp_now;
        ruined++;
        int len = h->rlen[w];
        double lt_max = len < ls_max ? (double)len : ls_max;
        int lt = (int)(1.0 + rng_random(rng) * lt_max);
        if (lt > len) lt = len;
        int p = h->pos[c];
        int lo_min = p - lt + 1 > 0 ? p - lt + 1 : 0;
        int lo_max = p < len - lt ? p : len - lt;
        int lo = rng_int(rng, lo_min, lo_max);
        int take[64];
        int nt = 0;
        const int *r = ROUTE(h, w);
        for (int i = lo; i < lo + lt && nt < 64; i++) take[nt++] = r[i];
        for (int i = 0; i < nt; i++) take_out_linked(h, take[i]);
    }
}

static void sort_removed(H *h) { /* stable insertion sort by keys */
    int n = h->nremoved;
    int *a = h->removed;
    i64 *k = h->keys;
    for (int i = 1; i < n; i++) {
        int x = a[i]; i64 kx = k[i]; int j = i - 1;
        while (j >= 0 && k[j] > kx) { a[j + 1] = a[j]; k[j + 1] = k[j]; j--; }
        a[j + 1] = x; k[j + 1] = kx;
    }
}

static void order_removed(H *h) {
    Rng *rng = &h->rng;
    double r = rng_random(rng) * 11.0; /* weights 4, 4, 2, 1 */
    int pick = r < 4.0 ? 0 : r < 8.0 ? 1 : r < 10.0 ? 2 : 3;
    int n = h->nremoved;
    if (pick == 0) {
        for (int i = n - 1; i > 0; i--) {
            int j = rng_int(rng, 0, i);
            int t = h->removed[i]; h->removed[i] = h->removed[j]; h->removed[j] = t;
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        int v = h->removed[i];
        h->keys[i] = pick == 1 ? h->open[v] : pick == 2 ? h->due[v] : h->due[v] - h->open[v];
    }
    sort_removed(h);
}

/* Insert every removed visit at its cheapest position (with ``blink``, each position is
 * skipped with that probability); 0 if one fits nowhere. */
static int recreate(H *h, double blink) {
    Rng *rng = &h->rng;
    order_removed(h);
    for (int q = 0; q < h->nremoved; q++) {
        int v = h->removed[q];
        i64 best = BIG;
        int bw = -1, bg = -1;
        const char *el = h->elig + (size_t)v * h->nw;
        for (int w = 0; w < h->nw; w++) {
            if (!el[w]) continue;
            int len = h->rlen[w];
            for (int g = 0; g <= len; g++) {
                if (blink > 0 && rng_random(rng) < blink) continue;
                i64 d = insertion_delta(h, v, w, g, best);
                if (d < best) { best = d; bw = w; bg = g; }
            }
        }
        if (bw < 0) return 0;
        place(h, v, bw, bg);
        if (!retime(h)) return 0; /* (not expected: the position was priced feasible) */
    }
    h->nremoved = 0;
    return 1;
}

/* ------------------------------------------------------------------ the driver */

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

static const i64 *near_key;
static int by_near_key(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    if (near_key[x] != near_key[y]) return near_key[x] < near_key[y] ? -1 : 1;
    return x - y;
}

static int buffer_len(Py_buffer *b) { return (int)(b->len / (Py_ssize_t)sizeof(i64)); }

static PyObject *linked_run(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"travel", "visit_location", "duration", "open", "due", "latest",
                             "worker_start", "worker_end", "shift_start", "shift_end", "eligible",
                             "dep_before", "dep_after", "dep_min", "dep_max", "dep_different",
                             "weights", "routes", "seed", "avg_removed", "max_string", "blink", "t0", "tf",
                             "stop", "max_iterations", NULL};
    Py_buffer b[16];
    memset(b, 0, sizeof(b));
    PyObject *weights, *routes, *stop = Py_None, *max_obj = Py_None;
    long long seed;
    double avg_removed, max_string, blink, t0, tf;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*y*y*y*y*y*y*y*y*y*y*y*y*y*y*y*OOLdddddOO", kwlist,
                                     &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7], &b[8], &b[9],
                                     &b[10], &b[11], &b[12], &b[13], &b[14], &b[15], &weights, &routes, &seed,
                                     &avg_removed, &max_string, &blink, &t0, &tf, &stop, &max_obj))
        return NULL;
    H h;
    memset(&h, 0, sizeof(h));
    PyObject *result = NULL;
    int *best_rlen = NULL, *best_route = NULL;
    i64 *best_st = NULL;
    long long max_it = -1;
    int nv = buffer_len(&b[1]), nw = buffer_len(&b[6]), nd = buffer_len(&b[11]);
    int nl = 0;
    while ((i64)nl * nl < buffer_len(&b[0])) nl++;
    if (nv < 1 || nw < 1 || (i64)nl * nl != buffer_len(&b[0]) || buffer_len(&b[2]) != nv || buffer_len(&b[3]) != nv
        || buffer_len(&b[4]) != nv || buffer_len(&b[5]) != nv || buffer_len(&b[7]) != nw || buffer_len(&b[8]) != nw
        || buffer_len(&b[9]) != nw || b[10].len != (Py_ssize_t)nv * nw || buffer_len(&b[12]) != nd
        || buffer_len(&b[13]) != nd || buffer_len(&b[14]) != nd || buffer_len(&b[15]) != nd) {
        PyErr_SetString(PyExc_ValueError, "linked day: array sizes do not match (int64 vectors, an nl x nl travel "
                                          "matrix, an nv x nw byte eligibility matrix)");
        goto done;
    }
    if (!PyArg_ParseTuple(weights, "LLL", &h.w_travel, &h.w_late, &h.w_max)) goto done;
    if (!(avg_removed >= 1.0 && avg_removed <= 1000.0) || !(max_string >= 1.0 && max_string <= 64.0)
        || !(blink >= 0.0 && blink < 1.0)) {
        PyErr_SetString(PyExc_ValueError, "avg_removed must be in 1..1000, max_string in 1..64, blink in [0, 1)");
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
    h.nv = nv; h.nw = nw; h.nl = nl; h.nd = nd; h.stride = nv;
    h.tt = b[0].buf; h.vloc = b[1].buf; h.dur = b[2].buf; h.open = b[3].buf; h.due = b[4].buf; h.latest = b[5].buf;
    h.wstart = b[6].buf; h.wend = b[7].buf; h.sstart = b[8].buf; h.send = b[9].buf; h.elig = b[10].buf;
    h.dx = b[11].buf; h.dy = b[12].buf; h.dmin = b[13].buf; h.dmax = b[14].buf; h.ddiff = b[15].buf;
    h.avg_removed = avg_removed; h.max_string = max_string; h.blink = blink;
    for (int i = 0; i < nv; i++)
        if (h.vloc[i] < 0 || h.vloc[i] >= nl) { PyErr_SetString(PyExc_ValueError, "visit location out of range"); goto done; }
    for (int w = 0; w < nw; w++)
        if (h.wstart[w] < 0 || h.wstart[w] >= nl || h.wend[w] < 0 || h.wend[w] >= nl) {
            PyErr_SetString(PyExc_ValueError, "worker location out of range"); goto done;
        }
    for (int d = 0; d < nd; d++)
        if (h.dx[d] < 0 || h.dx[d] >= nv || h.dy[d] < 0 || h.dy[d] >= nv || h.dx[d] == h.dy[d]) {
            PyErr_SetString(PyExc_ValueError, "dependency visit out of range"); goto done;
        }
#define ALLOC(ptr, count, type) do { (ptr) = (type *)calloc((size_t)(count) > 0 ? (size_t)(count) : 1, sizeof(type)); \
    if (!(ptr)) { PyErr_NoMemory(); goto done; } } while (0)
    size_t cells = (size_t)nw * nv;
    ALLOC(h.adj_off, nv + 1, int); ALLOC(h.adj, 2 * nd, int); ALLOC(h.near, (size_t)nv * nv, int);
    ALLOC(h.rlen, nw, int); ALLOC(h.route, cells, int); ALLOC(h.wof, nv, int); ALLOC(h.pos, nv, int);
    ALLOC(h.st, nv, i64); ALLOC(h.lb, nv, i64); ALLOC(h.rend, nw, i64);
    ALLOC(h.b_rlen, nw, int); ALLOC(h.b_route, cells, int); ALLOC(h.b_wof, nv, int); ALLOC(h.b_pos, nv, int);
    ALLOC(h.b_st, nv, i64); ALLOC(h.b_lb, nv, i64); ALLOC(h.b_rend, nw, i64);
    ALLOC(h.x_st, nv, i64); ALLOC(h.x_lb, nv, i64); ALLOC(h.x_rend, nw, i64); ALLOC(h.x_route, nv + 1, int);
    ALLOC(h.removed, nv, int); ALLOC(h.keys, nv, i64); ALLOC(h.stamp, nw, uint32_t);
    ALLOC(best_rlen, nw, int); ALLOC(best_route, cells, int); ALLOC(best_st, nv, i64);
    for (int d = 0; d < nd; d++) { h.adj_off[h.dx[d] + 1]++; h.adj_off[h.dy[d] + 1]++; }
    for (int i = 0; i < nv; i++) h.adj_off[i + 1] += h.adj_off[i];
    {
        int *fill;
        ALLOC(fill, nv, int);
        for (int d = 0; d < nd; d++) {
            h.adj[h.adj_off[h.dx[d]] + fill[h.dx[d]]++] = d;
            h.adj[h.adj_off[h.dy[d]] + fill[h.dy[d]]++] = d;
        }
        free(fill);
    }
    {
        /* visits by symmetric travel from each visit, itself first (ties by number) */
        i64 *key;
        ALLOC(key, nv, i64);
        for (int i = 0; i < nv; i++) {
            int *row = h.near + (size_t)i * nv;
            for (int j = 0; j < nv; j++) {
                key[j] = j == i ? -1 : TT(&h, h.vloc[i], h.vloc[j]) + TT(&h, h.vloc[j], h.vloc[i]);
                row[j] = j;
            }
            near_key = key;
            qsort(row, (size_t)nv, sizeof(int), by_near_key);
        }
        free(key);
    }
    rng_seed(&h.rng, (uint64_t)seed);
    /* the start plan: routes per worker (lists of visit indices), then every visit not in them */
    for (int v = 0; v < nv; v++) h.wof[v] = -1;
    {
        PyObject *seq = PySequence_Fast(routes, "routes must be a sequence (one list of visits per worker)");
        if (!seq) goto done;
        if (PySequence_Fast_GET_SIZE(seq) != nw) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "routes: one list per worker");
            goto done;
        }
        for (int w = 0; w < nw; w++) {
            PyObject *r = PySequence_Fast(PySequence_Fast_GET_ITEM(seq, w), "each route must be a sequence");
            if (!r) { Py_DECREF(seq); goto done; }
            Py_ssize_t k = PySequence_Fast_GET_SIZE(r);
            for (Py_ssize_t j = 0; j < k; j++) {
                long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(r, j));
                if (v == -1 && PyErr_Occurred()) { Py_DECREF(r); Py_DECREF(seq); goto done; }
                if (v < 0 || v >= nv || h.wof[v] >= 0 || !h.elig[(size_t)v * nw + w]) {
                    Py_DECREF(r); Py_DECREF(seq);
                    PyErr_Format(PyExc_ValueError, "routes: visit %ld is out of range, repeated or not allowed to "
                                 "worker %d", v, w);
                    goto done;
                }
                place(&h, (int)v, w, h.rlen[w]);
            }
            Py_DECREF(r);
        }
        Py_DECREF(seq);
    }
    if (!retime(&h)) {
        PyErr_SetString(PyExc_ValueError, "routes: the start plan has no schedule");
        goto done;
    }
    h.nremoved = 0;
    for (int v = 0; v < nv; v++) if (h.wof[v] < 0) h.removed[h.nremoved++] = v;
    if (h.nremoved && !recreate(&h, 0.0)) { /* (no skips: a visit that fits must be placed) */
        result = Py_BuildValue("(OOLLLL)", Py_None, Py_None, 0LL, 0LL, 0LL, 0LL);
        goto done;
    }
    i64 start_cost = h.cost, best_cost = h.cost;
    memcpy(best_rlen, h.rlen, sizeof(int) * (size_t)nw);
    memcpy(best_route, h.route, sizeof(int) * cells);
    memcpy(best_st, h.st, sizeof(i64) * (size_t)nv);
    int arcs = nv + nw;
    double mean_arc = (double)(h.w_travel * h.travel) / arcs;
    if (mean_arc <= 0) mean_arc = 1.0;
    double hot = t0 * mean_arc, cold = tf * mean_arc;
    if (hot < 1e-9) hot = 1e-9;
    if (cold < 1e-9) cold = 1e-9;
    double temp = hot, frac = 0.0;
    long long it = 0, accepted = 0, improvements = 0;
    for (;;) {
        if (max_it >= 0 && it >= max_it) break;
        if (stop != Py_None && (it & 7) == 0) {
            int r = ask_stop(stop, &frac);
            if (r < 0) goto done;
            if (r) break;
            temp = hot * pow(cold / hot, frac);
        } else if (stop == Py_None) {
            frac = (double)it / (double)max_it;
            temp = hot * pow(cold / hot, frac);
        }
        it++;
        i64 before = h.cost;
        save(&h);
        ruin(&h);
        if (!h.nremoved || !retime(&h) || !recreate(&h, h.blink)) { restore(&h); continue; }
        double u = rng_random(&h.rng);
        if (u <= 0.0) u = 1e-300;
        if ((double)h.cost < (double)before - temp * log(u)) {
            accepted++;
            if (h.cost < best_cost) {
                best_cost = h.cost;
                memcpy(best_rlen, h.rlen, sizeof(int) * (size_t)nw);
                for (int w = 0; w < nw; w++)
                    memcpy(best_route + (size_t)w * nv, ROUTE(&h, w), sizeof(int) * (size_t)h.rlen[w]);
                memcpy(best_st, h.st, sizeof(i64) * (size_t)nv);
                improvements++;
            }
        } else {
            restore(&h);
        }
    }
    {
        PyObject *plan = PyList_New(nw), *starts = PyList_New(nw);
        if (!plan || !starts) { Py_XDECREF(plan); Py_XDECREF(starts); goto done; }
        for (int w = 0; w < nw; w++) {
            PyObject *r = PyList_New(best_rlen[w]), *s = PyList_New(best_rlen[w]);
            if (!r || !s) { Py_XDECREF(r); Py_XDECREF(s); Py_DECREF(plan); Py_DECREF(starts); goto done; }
            PyList_SET_ITEM(plan, w, r);
            PyList_SET_ITEM(starts, w, s);
            for (int i = 0; i < best_rlen[w]; i++) {
                int v = best_route[(size_t)w * nv + i];
                PyObject *a = PyLong_FromLong(v), *b = PyLong_FromLongLong(best_st[v]);
                if (!a || !b) { Py_XDECREF(a); Py_XDECREF(b); Py_DECREF(plan); Py_DECREF(starts); goto done; }
                PyList_SET_ITEM(r, i, a);
                PyList_SET_ITEM(s, i, b);
            }
        }
        result = Py_BuildValue("(NNLLLL)", plan, starts, it, accepted, improvements, (long long)best_cost);
        (void)start_cost;
    }
done:
    free(best_rlen); free(best_route); free(best_st);
    {
        void *ptrs[] = {h.adj_off, h.adj, h.near, h.rlen, h.route, h.wof, h.pos, h.st, h.lb, h.rend, h.b_rlen,
                        h.b_route, h.b_wof, h.b_pos, h.b_st, h.b_lb, h.b_rend, h.x_st, h.x_lb, h.x_rend,
                        h.x_route, h.removed, h.keys, h.stamp};
        for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++) free(ptrs[i]);
    }
    for (int i = 0; i < 16; i++) PyBuffer_Release(&b[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"run", (PyCFunction)(void (*)(void))linked_run, METH_VARARGS | METH_KEYWORDS,
     "run(travel, visit_location, duration, open, due, latest, worker_start, worker_end, shift_start, shift_end, "
     "eligible, dep_before, dep_after, dep_min, dep_max, dep_different, weights, routes, seed, avg_removed, "
     "max_string, blink, t0, tf, stop, max_iterations) -> (routes, starts, iterations, accepted, improvements, "
     "cost); routes None when a visit fits nowhere.  See optimizer/linked_search.py."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "optimizer._linked",
                                    "Ruin and recreate for plain linked days in C (optimizer.linked_search).", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__linked(void) { return PyModule_Create(&module); }
