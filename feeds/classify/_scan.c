/* The classifier's per-item work in C: the same one scan, near pairing, exclusions and
 * scores as feeds/classify/engine.py's pure-Python path, which stays the reference (and the
 * fallback where this module cannot be built). feeds/classify/fast.py builds the tables
 * from the compiled rules; tests/classify/test_classify_fast.py checks that both paths give
 * the same classification on every wire item and on random text.
 *
 * The phrases are a character trie walked from every word start (after a space or a quote
 * mark) of the scan copy (lowercased, blanks as spaces): every phrase ending on the way is an
 * occurrence, shorter ones included, which the regex path recovers from its longest match.
 * Two things call back into Python: the scan copy of text that is not all ASCII (its
 * lowercasing rules are Python's), and whether a sentence ends inside a near pattern's gap
 * (only when the gap holds . ! or ?). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <structmember.h>

#define EDGE_SEP (-1)  /* \s+ between the words of a phrase */
#define EDGE_APOS (-2) /* an apostrophe inside a word: ' \u2019 \u2018 \u02bc */
enum { K_TERM, K_NEAR, K_EXCL, K_EXCL_NEAR };

typedef struct { int ch, child; } Edge;
typedef struct { int edge_lo, edge_n, word_lo, word_n, wild_lo, wild_n; } Node;
typedef struct { int kind, index, side; } Use;
typedef struct {
    int label, distance, ordered, sentence, skip[2];
    double title_weight, weight;
} Rule;
typedef struct { int label, distance, ordered, sentence; } Excl;

typedef struct {
    PyObject_HEAD
    Node *nodes; Edge *edges; int *atom_refs;
    int *use_lo, *use_n; Use *uses;
    Rule *rules; int n_rules;
    Excl *excls; int n_excls;
    int n_atoms;
    int n_labels;
    PyObject *crosses;
    int ready;  /* set once the tables are whole; an Engine is initialised only once */
    PyObject *forms;  /* atom -> (words as written or None, wildcard), for cased atoms */
    PyObject **form_of;  /* per atom, its entry in forms (borrowed), NULL when not cased */
    /* Evidence: the Match class, its slots' offsets (label, term, text, field, start, end,
     * weight) and per field and rule the (label, term, field, weight) objects they hold. */
    PyTypeObject *match_type;
    Py_ssize_t offsets[7];
    PyObject *rows;
    int root[128];  /* the root's child per ASCII character: a word's first step */
    unsigned char lower_blank[128];  /* ASCII text to the scan copy: lowercase, blanks */
    PyObject *scan_text;  /* scan_text(title, summary): the scan copy of other text */
} Engine;

/* --- growable arrays --------------------------------------------------------------- */

/* Room for ``need`` elements of ``size`` bytes in *buf, doubling its capacity *cap; -1
 * (MemoryError set) when there is none. The one growth rule of every array here. */
static int grow(void **buf, Py_ssize_t need, Py_ssize_t *cap, size_t size) {
    if (need <= *cap) return 0;
    Py_ssize_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    void *grown = realloc(*buf, (size_t)c * size);
    if (!grown) { PyErr_NoMemory(); return -1; }
    *buf = grown; *cap = c;
    return 0;
}

typedef struct { int *v; Py_ssize_t n, cap; } IntVec;

static int iv_push(IntVec *a, const int *xs, int k) {
    if (grow((void **)&a->v, a->n + k, &a->cap, sizeof(int))) return -1;
    memcpy(a->v + a->n, xs, k * sizeof(int));
    a->n += k;
    return 0;
}

/* --- characters, as Python's re sees them ------------------------------------------ */

static unsigned char ascii_word[128];  /* [0-9A-Za-z_] */

static inline int is_word(Py_UCS4 c) {
    return c < 128 ? ascii_word[c] : Py_UNICODE_ISALNUM(c);
}
static inline int is_apos(Py_UCS4 c) {
    return c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x2bc;
}

typedef struct { int kind; const void *data; Py_ssize_t len; } Text;

static inline Py_UCS4 at(const Text *t, Py_ssize_t i) { return PyUnicode_READ(t->kind, t->data, i); }

static int text_of(PyObject *s, Text *t) {
    if (!PyUnicode_Check(s)) { PyErr_SetString(PyExc_TypeError, "str expected"); return -1; }
    t->kind = PyUnicode_KIND(s); t->data = PyUnicode_DATA(s); t->len = PyUnicode_GET_LENGTH(s);
    return 0;
}

static inline int child_of(const Engine *e, const Node *nd, int ch) {
    const Edge *ed = e->edges + nd->edge_lo;
    int lo = 0, hi = nd->edge_n;
    while (lo < hi) {  /* edges sorted by ch */
        int mid = (lo + hi) >> 1;
        if (ed[mid].ch < ch) lo = mid + 1; else hi = mid;
    }
    return (lo < nd->edge_n && ed[lo].ch == ch) ? ed[lo].child : -1;
}

/* --- building ------------------------------------------------------------------------ */

static int as_int(PyObject *seq, Py_ssize_t i, int *out) {
    PyObject *o = PySequence_GetItem(seq, i);
    if (!o) return -1;
    long v = PyLong_AsLong(o);
    Py_DECREF(o);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (v < INT_MIN || v > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "a table number out of range");
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int as_double(PyObject *seq, Py_ssize_t i, double *out) {
    PyObject *o = PySequence_GetItem(seq, i);
    if (!o) return -1;
    double v = PyFloat_AsDouble(o);
    Py_DECREF(o);
    if (v == -1.0 && PyErr_Occurred()) return -1;
    *out = v;
    return 0;
}

static void engine_free_tables(Engine *e) {
    free(e->nodes); free(e->edges); free(e->atom_refs); free(e->use_lo); free(e->use_n);
    free(e->uses); free(e->rules); free(e->excls); free(e->form_of);
    e->nodes = NULL; e->edges = NULL; e->atom_refs = NULL; e->use_lo = NULL; e->use_n = NULL;
    e->uses = NULL; e->rules = NULL; e->excls = NULL; e->form_of = NULL;
}

/* The trie of the phrases, built here (in Python it took ~35 ms for the bundled rules'
 * ~20,000 nodes): while building, each node's edges and atoms are linked lists; then each
 * node's edges are sorted by code into one array, its atoms into another. */
typedef struct { int first_edge, first_word, first_wild; } BNode;
typedef struct { int ch, child, next; } BLink;

static int edge_code(Py_UCS4 c) {
    if (c == ' ') return EDGE_SEP;
    if (c == '\'') return EDGE_APOS;
    if (Py_UNICODE_ISSPACE(c) || is_apos(c)) return INT32_MIN;  /* never in the tables */
    return (int)c;
}

static int edge_cmp(const void *pa, const void *pb) {
    const Edge *a = pa, *b = pb;
    return (a->ch > b->ch) - (a->ch < b->ch);
}

static int build_trie(Engine *self, PyObject *phrases, int n_atoms) {
    Py_ssize_t n = PySequence_Length(phrases);
    if (n < 0) return -1;
    BNode *nodes = NULL; BLink *links = NULL;  /* edges: (code, child); atoms: (atom, -) */
    int n_nodes = 1, n_links = 0, rc = -1;
    Py_ssize_t cap_nodes = 1024, cap_links = 4096;
    nodes = malloc(cap_nodes * sizeof(BNode));
    links = malloc(cap_links * sizeof(BLink));
    if (!nodes || !links) { PyErr_NoMemory(); goto out; }
    nodes[0] = (BNode){-1, -1, -1};
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *entry = PySequence_GetItem(phrases, i);
        if (!entry) goto out;
        PyObject *phrase = PyTuple_Check(entry) && PyTuple_GET_SIZE(entry) == 3
                           ? PyTuple_GET_ITEM(entry, 0) : NULL;
        PyObject *atoms = phrase ? PyTuple_GET_ITEM(entry, 2) : NULL;
        int wildcard = phrase ? PyObject_IsTrue(PyTuple_GET_ITEM(entry, 1)) : -1;
        Text t;
        if (!phrase || !PyTuple_Check(atoms) || wildcard < 0 || text_of(phrase, &t)) {
            Py_DECREF(entry);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad phrase entry");
            goto out;
        }
        int node = 0;
        for (Py_ssize_t k = 0; k < t.len; k++) {
            int code = edge_code(at(&t, k)), child = -1;
            if (code == INT32_MIN) {
                PyErr_SetString(PyExc_ValueError, "a phrase holds a character the trie cannot take");
                Py_DECREF(entry);
                goto out;
            }
            for (int l = nodes[node].first_edge; l >= 0; l = links[l].next)
                if (links[l].ch == code) { child = links[l].child; break; }
            if (child < 0) {
                if (grow((void **)&nodes, n_nodes + 1, &cap_nodes, sizeof(BNode)) ||
                    grow((void **)&links, n_links + 1, &cap_links, sizeof(BLink))) {
                    Py_DECREF(entry);
                    goto out;
                }
                child = n_nodes++;
                nodes[child] = (BNode){-1, -1, -1};
                links[n_links] = (BLink){code, child, nodes[node].first_edge};
                nodes[node].first_edge = n_links++;
            }
            node = child;
        }
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(atoms); k++) {
            long atom = PyLong_AsLong(PyTuple_GET_ITEM(atoms, k));
            if (atom < 0 || atom >= n_atoms) {
                Py_DECREF(entry);
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "atom out of range");
                goto out;
            }
            if (grow((void **)&links, n_links + 1, &cap_links, sizeof(BLink))) {
                Py_DECREF(entry);
                goto out;
            }
            int *head = wildcard ? &nodes[node].first_wild : &nodes[node].first_word;
            links[n_links] = (BLink){(int)atom, -1, *head};
            *head = n_links++;
        }
        Py_DECREF(entry);
    }
    self->nodes = calloc(n_nodes, sizeof(Node));
    self->edges = malloc((size_t)(n_nodes + 1) * sizeof(Edge));
    self->atom_refs = malloc((size_t)(n_links + 1) * sizeof(int));
    if (!self->nodes || !self->edges || !self->atom_refs) { PyErr_NoMemory(); goto out; }
    int n_edges = 0, n_refs = 0;
    for (int i = 0; i < n_nodes; i++) {
        Node *nd = &self->nodes[i];
        nd->edge_lo = n_edges;
        for (int l = nodes[i].first_edge; l >= 0; l = links[l].next)
            self->edges[n_edges++] = (Edge){links[l].ch, links[l].child};
        nd->edge_n = n_edges - nd->edge_lo;
        qsort(self->edges + nd->edge_lo, nd->edge_n, sizeof(Edge), edge_cmp);
        nd->word_lo = n_refs;
        for (int l = nodes[i].first_word; l >= 0; l = links[l].next)
            self->atom_refs[n_refs++] = links[l].ch;
        nd->word_n = n_refs - nd->word_lo;
        nd->wild_lo = n_refs;
        for (int l = nodes[i].first_wild; l >= 0; l = links[l].next)
            self->atom_refs[n_refs++] = links[l].ch;
        nd->wild_n = n_refs - nd->wild_lo;
    }
    rc = 0;
out:
    free(nodes); free(links);
    return rc;
}

/* Engine(phrases, uses, rules, exclusions, cased, n_labels, crosses, match_type, rows,
 *        lower_blank, scan_text)
 * phrases: [(phrase, wildcard, (atom, ...)), ...], a phrase as the engine's tables write it
 * ("word word", lowercase, apostrophes as "'")
 * uses: per atom ((kind, index, side), ...); rules: (label, title weight, weight, distance,
 * ordered, sentence, skip title, skip summary); exclusions: (label, distance, ordered,
 * sentence); cased: {atom: (words as written or None, wildcard)} of the phrases with
 * case-sensitive words; crosses(text, a, b): whether a sentence ends between a and b;
 * match_type: the Match class (slots); rows: per field, per rule (label, term, field,
 * weight there); lower_blank: bytes, the scan copy's translation of ASCII characters;
 * scan_text(title, summary): the scan copy of text that is not all ASCII. */
static int Engine_init(Engine *self, PyObject *args, PyObject *kw) {
    PyObject *phrases, *uses, *rules, *excls, *cased, *crosses, *match_type, *rows, *scan_text;
    const char *table;
    Py_ssize_t table_len;
    int n_labels;
    if (!PyArg_ParseTuple(args, "OOOOO!iOO!O!y#O", &phrases, &uses, &rules, &excls,
                          &PyDict_Type, &cased, &n_labels, &crosses, &PyType_Type,
                          &match_type, &PyTuple_Type, &rows, &table, &table_len, &scan_text))
        return -1;
    /* Once only: run() reads the tables without a lock, and it calls back into Python
     * (sentence ends, the scan copy of non-ASCII text), where anything could re-enter. */
    if (self->ready) {
        PyErr_SetString(PyExc_TypeError, "an Engine is initialised only once");
        return -1;
    }
    if (kw && PyDict_GET_SIZE(kw)) {
        PyErr_SetString(PyExc_TypeError, "Engine() takes no keyword arguments");
        return -1;
    }
    if (n_labels < 1 || n_labels > 8 || !PyCallable_Check(crosses) ||
        !PyCallable_Check(scan_text)) {
        PyErr_SetString(PyExc_ValueError, "n_labels (1-8), crosses and scan_text (callables)");
        return -1;
    }
    if (table_len < 128) { PyErr_SetString(PyExc_ValueError, "lower_blank"); return -1; }
    memcpy(self->lower_blank, table, 128);
    static const char *slot_names[7] = {"label", "term", "text", "field", "start", "end",
                                        "weight"};
    PyTypeObject *mt = (PyTypeObject *)match_type;
    for (int k = 0; k < 7; k++) {
        self->offsets[k] = -1;
        for (PyMemberDef *m = mt->tp_members; m && m->name; m++)
            if (strcmp(m->name, slot_names[k]) == 0 && m->type == T_OBJECT_EX)
                self->offsets[k] = m->offset;
        if (self->offsets[k] < 0) {
            PyErr_Format(PyExc_TypeError, "%s has no slot %s", mt->tp_name, slot_names[k]);
            return -1;
        }
    }
    if (PyTuple_GET_SIZE(rows) != 2) { PyErr_SetString(PyExc_ValueError, "rows"); return -1; }
    IntVec usev = {0};
    Py_ssize_t n_atoms = PySequence_Length(uses);
    Py_ssize_t n_rules = PySequence_Length(rules), n_excls = PySequence_Length(excls);
    if (n_atoms < 0 || n_rules < 0 || n_excls < 0) goto fail;
    self->n_atoms = (int)n_atoms; self->n_rules = (int)n_rules; self->n_excls = (int)n_excls;
    self->n_labels = n_labels;
    self->use_lo = calloc(n_atoms + 1, sizeof(int));
    self->use_n = calloc(n_atoms + 1, sizeof(int));
    self->rules = calloc(n_rules + 1, sizeof(Rule));
    self->excls = calloc(n_excls + 1, sizeof(Excl));
    self->form_of = calloc(n_atoms + 1, sizeof(PyObject *));
    if (!self->use_lo || !self->use_n || !self->rules || !self->excls || !self->form_of) {
        PyErr_NoMemory();
        goto fail;
    }
    if (build_trie(self, phrases, (int)n_atoms)) goto fail;
    for (Py_ssize_t i = 0; i < n_atoms; i++) {
        PyObject *u = PySequence_GetItem(uses, i);
        if (!u) goto fail;
        Py_ssize_t n_uses = PySequence_Length(u);
        self->use_lo[i] = (int)(usev.n / 3); self->use_n[i] = (int)n_uses;
        int ok = n_uses < 0 ? -1 : 0;
        for (Py_ssize_t j = 0; j < self->use_n[i] && ok == 0; j++) {
            PyObject *t = PySequence_GetItem(u, j);
            int x[3] = {-1, -1, -1};
            ok = (!t || as_int(t, 0, &x[0]) || as_int(t, 1, &x[1]) || as_int(t, 2, &x[2]))
                 ? -1 : 0;
            int limit = (x[0] == K_TERM || x[0] == K_NEAR) ? (int)n_rules : (int)n_excls;
            if (ok == 0 && (x[0] < K_TERM || x[0] > K_EXCL_NEAR || x[1] < 0 ||
                            x[1] >= limit || x[2] < 0 || x[2] > 1))
                ok = -1;  /* (a use names a rule or exclusion that does not exist) */
            if (ok == 0) ok = iv_push(&usev, x, 3);
            Py_XDECREF(t);
        }
        Py_DECREF(u);
        if (ok) goto fail;
    }
    for (Py_ssize_t i = 0; i < n_rules; i++) {
        PyObject *r = PySequence_GetItem(rules, i);
        if (!r) goto fail;
        Rule *x = &self->rules[i];
        int bad = as_int(r, 0, &x->label) || as_double(r, 1, &x->title_weight) ||
                  as_double(r, 2, &x->weight) || as_int(r, 3, &x->distance) ||
                  as_int(r, 4, &x->ordered) || as_int(r, 5, &x->sentence) ||
                  as_int(r, 6, &x->skip[0]) || as_int(r, 7, &x->skip[1]);
        Py_DECREF(r);
        if (bad || x->label < 0 || x->label >= n_labels) goto fail;
    }
    for (Py_ssize_t i = 0; i < n_excls; i++) {
        PyObject *r = PySequence_GetItem(excls, i);
        if (!r) goto fail;
        Excl *x = &self->excls[i];
        int bad = as_int(r, 0, &x->label) || as_int(r, 1, &x->distance) ||
                  as_int(r, 2, &x->ordered) || as_int(r, 3, &x->sentence);
        Py_DECREF(r);
        if (bad || x->label < 0 || x->label >= n_labels) goto fail;
    }
    /* A copy, checked: the caller's dict may change, and case_ok trusts its shape. */
    PyObject *forms = PyDict_Copy(cased), *key, *value;
    if (!forms) goto fail;
    Py_ssize_t pos = 0;
    while (PyDict_Next(forms, &pos, &key, &value)) {
        long a = PyLong_Check(key) ? PyLong_AsLong(key) : -1;
        int bad = a < 0 || a >= n_atoms || !PyTuple_Check(value) ||
                  PyTuple_GET_SIZE(value) != 2 || !PyTuple_Check(PyTuple_GET_ITEM(value, 0)) ||
                  !PyBool_Check(PyTuple_GET_ITEM(value, 1));
        for (Py_ssize_t j = 0; !bad && j < PyTuple_GET_SIZE(PyTuple_GET_ITEM(value, 0)); j++) {
            PyObject *w = PyTuple_GET_ITEM(PyTuple_GET_ITEM(value, 0), j);
            bad = w != Py_None && !PyUnicode_Check(w);
        }
        if (bad) { Py_DECREF(forms); PyErr_Clear(); goto fail; }
        self->form_of[a] = value;  /* borrowed: forms holds it */
    }
    self->uses = (Use *)usev.v;
    Py_XSETREF(self->forms, forms);
    Py_XSETREF(self->crosses, Py_NewRef(crosses));
    Py_XSETREF(self->match_type, (PyTypeObject *)Py_NewRef(match_type));
    Py_XSETREF(self->rows, Py_NewRef(rows));
    Py_XSETREF(self->scan_text, Py_NewRef(scan_text));
    for (int c = 0; c < 128; c++) self->root[c] = child_of(self, self->nodes, c);
    self->ready = 1;
    return 0;
fail:
    free(usev.v);
    engine_free_tables(self);
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad tables");
    return -1;
}

static void Engine_dealloc(Engine *self) {
    engine_free_tables(self);
    Py_XDECREF(self->crosses);
    Py_XDECREF(self->forms);
    Py_XDECREF(self->match_type);
    Py_XDECREF(self->rows);
    Py_XDECREF(self->scan_text);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* --- the scan ------------------------------------------------------------------------ */


/* Every phrase occurrence starting at w (and ending before hi): (atom, end) into found. */
static int walk(const Engine *e, const Text *t, Py_ssize_t w, Py_ssize_t hi, IntVec *found) {
    const Node *nd = e->nodes;
    Py_ssize_t i = w;
    for (;;) {
        if (nd->word_n && (i >= hi || !is_word(at(t, i)))) {
            for (int k = 0; k < nd->word_n; k++) {
                int x[2] = {e->atom_refs[nd->word_lo + k], (int)i};
                if (iv_push(found, x, 2)) return -1;
            }
        }
        if (nd->wild_n) {
            Py_ssize_t j = i;
            while (j < hi && is_word(at(t, j))) j++;
            for (int k = 0; k < nd->wild_n; k++) {
                int x[2] = {e->atom_refs[nd->wild_lo + k], (int)j};
                if (iv_push(found, x, 2)) return -1;
            }
        }
        if (i >= hi || !nd->edge_n) return 0;
        Py_UCS4 c = at(t, i);
        int child;
        if (nd == e->nodes && c < 128) {
            child = e->root[c];
            if (child < 0) return 0;
            i++;
        } else if (Py_UNICODE_ISSPACE(c)) {
            child = child_of(e, nd, EDGE_SEP);
            if (child < 0) return 0;
            do i++; while (i < hi && Py_UNICODE_ISSPACE(at(t, i)));
        } else {
            child = child_of(e, nd, is_apos(c) ? EDGE_APOS : (int)c);
            if (child < 0) return 0;
            i++;
        }
        nd = e->nodes + child;
    }
}

/* --- near pairing ---------------------------------------------------------------------- */

/* Words (\w+(?:['\u2019]\w+)*) in t[a:b], counted up to limit + 1. */
static int gap_words(const Text *t, Py_ssize_t a, Py_ssize_t b, int limit) {
    int n = 0;
    Py_ssize_t i = a;
    while (i < b) {
        if (!is_word(at(t, i))) { i++; continue; }
        if (++n > limit) return n;
        for (;;) {
            while (i < b && is_word(at(t, i))) i++;
            if (i + 1 < b && (at(t, i) == '\'' || at(t, i) == 0x2019) && is_word(at(t, i + 1)))
                i++;
            else
                break;
        }
    }
    return n;
}

/* Whether a sentence ends between a and b (the Python rule, called only when the gap holds
 * . ! or ?): -1 on error. */
static int crosses(const Engine *e, PyObject *text, const Text *t, Py_ssize_t a, Py_ssize_t b) {
    Py_ssize_t from = a > 0 ? a - 1 : 0;
    int stop = 0;
    for (Py_ssize_t i = from; i < b && !stop; i++) {
        Py_UCS4 c = at(t, i);
        stop = c == '.' || c == '!' || c == '?';
    }
    if (!stop) return 0;
    PyObject *r = PyObject_CallFunction(e->crosses, "Onn", text, a, b);
    if (!r) return -1;
    int v = PyObject_IsTrue(r);
    Py_DECREF(r);
    return v;
}

typedef struct { int words, ws, we, ls, le, rs, re, li, ri; } Pair;  /* sorted on 7 */

/* qsort comparators: records of ints in lexicographic order of their first n ints. */
static inline int ints_cmp(const void *pa, const void *pb, int n) {
    const int *a = (const int *)pa, *b = (const int *)pb;
    for (int k = 0; k < n; k++)
        if (a[k] != b[k]) return a[k] < b[k] ? -1 : 1;
    return 0;
}
static int span_cmp(const void *a, const void *b) { return ints_cmp(a, b, 2); }
static int quad_cmp(const void *a, const void *b) { return ints_cmp(a, b, 4); }
static int pair_cmp(const void *a, const void *b) { return ints_cmp(a, b, 7); }

/* Sort spans (start, end) and drop repeats; returns the new count. */
static int unique_spans(int *sp, int n) {
    if (n < 2) return n;
    qsort(sp, n, 2 * sizeof(int), span_cmp);
    int m = 1;
    for (int i = 1; i < n; i++)
        if (sp[2 * i] != sp[2 * (m - 1)] || sp[2 * i + 1] != sp[2 * (m - 1) + 1]) {
            sp[2 * m] = sp[2 * i]; sp[2 * m + 1] = sp[2 * i + 1]; m++;
        }
    return m;
}

/* The windows (start, end) of a near pattern in one field: each occurrence of a part pairs
 * with at most one of the other, the nearest first (ties by window, then spans). */
static int near_windows(const Engine *e, PyObject *text, const Text *t, int *left, int nl,
                        int *right, int nr, int distance, int ordered, int sentence,
                        IntVec *out) {
    nl = unique_spans(left, nl);
    nr = unique_spans(right, nr);
    /* Each left part walks outwards from its position and stops at the first right part
     * too far (or past a sentence end): further ones are further still, so the cost follows
     * the pairs that fire, not every left x right pair of a long lede. right: by start;
     * by_end: the same spans by end. */
    int *by_end = malloc((size_t)nr * 3 * sizeof(int) + 1);  /* (end, start, index) */
    Pair *pairs = NULL;
    int np = 0;
    Py_ssize_t cap = 0;
    if (!by_end) { PyErr_NoMemory(); return -1; }
    for (int j = 0; j < nr; j++) {
        by_end[3 * j] = right[2 * j + 1]; by_end[3 * j + 1] = right[2 * j]; by_end[3 * j + 2] = j;
    }
    if (nr > 1) qsort(by_end, nr, 3 * sizeof(int), span_cmp);
    for (int i = 0; i < nl; i++) {
        int ls = left[2 * i], le = left[2 * i + 1];
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1 && ordered) break;
            int j, step;
            if (pass == 0) {  /* right parts after: the first with start >= le, onwards */
                int lo = 0, hi = nr;
                while (lo < hi) { int m = (lo + hi) >> 1; if (right[2 * m] < le) lo = m + 1; else hi = m; }
                j = lo; step = 1;
            } else {  /* right parts before: the last with end <= ls, backwards */
                int lo = 0, hi = nr;
                while (lo < hi) { int m = (lo + hi) >> 1; if (by_end[3 * m] <= ls) lo = m + 1; else hi = m; }
                j = lo - 1; step = -1;
            }
            for (; j >= 0 && j < nr; j += step) {
                int ri = pass == 0 ? j : by_end[3 * j + 2];
                int rs = right[2 * ri], re = right[2 * ri + 1];
                int a = pass == 0 ? le : re, b = pass == 0 ? rs : ls;
                int words = gap_words(t, a, b, distance);
                if (words > distance) break;
                if (sentence) {
                    int c = crosses(e, text, t, a, b);
                    if (c < 0) { free(by_end); free(pairs); return -1; }
                    if (c) break;
                }
                if (grow((void **)&pairs, np + 1, &cap, sizeof(Pair))) {
                    free(by_end); free(pairs); return -1;
                }
                pairs[np++] = pass == 0 ? (Pair){words, ls, re, ls, le, rs, re, i, ri}
                                        : (Pair){words, rs, le, ls, le, rs, re, i, ri};
            }
        }
    }
    free(by_end);
    if (np > 1) qsort(pairs, np, sizeof(Pair), pair_cmp);
    unsigned char *used = calloc((size_t)nl + nr + 1, 1);
    if (!used) { free(pairs); PyErr_NoMemory(); return -1; }
    int rc = 0;
    for (int k = 0; k < np && rc == 0; k++) {
        Pair *p = &pairs[k];
        int li = p->li, ri = p->ri;
        if (used[li] || used[nl + ri]) continue;
        used[li] = used[nl + ri] = 1;
        int w[2] = {p->ws, p->we};
        rc = iv_push(out, w, 2);
    }
    free(used);
    free(pairs);
    return rc;
}

/* --- one item -------------------------------------------------------------------------- */

/* Whether the case-sensitive phrase of ``entry`` (its forms), found in the scan copy at [w, end), has its
 * case-sensitive words as written: the words (runs of non-space) of that span, read in the
 * text as written with apostrophes as "'", match the phrase's words one for one (None: any
 * case; the last word of a wildcard phrase: as a prefix). -1 on error. */
static int case_ok(PyObject *entry, const Text *copy, const Text *fields, Py_ssize_t bound,
                   Py_ssize_t w, Py_ssize_t end) {
    /* The copy is " " + title + NUL + " " + summary; a word lies in one field. */
    const Text *wr = w < bound ? &fields[0] : &fields[1];
    Py_ssize_t shift = w < bound ? 1 : bound + 1;
    PyObject *words = PyTuple_GET_ITEM(entry, 0);
    int wildcard = PyTuple_GET_ITEM(entry, 1) == Py_True;  /* (a bool: checked at init) */
    Py_ssize_t n = PyTuple_GET_SIZE(words), k = 0, i = w;
    for (;;) {
        while (i < end && Py_UNICODE_ISSPACE(at(copy, i))) i++;
        if (i >= end) break;
        Py_ssize_t a = i;
        while (i < end && !Py_UNICODE_ISSPACE(at(copy, i))) i++;
        if (k >= n) return 0;
        PyObject *form = PyTuple_GET_ITEM(words, k);
        if (form != Py_None) {
            Text f;
            if (text_of(form, &f)) return -1;
            int prefix = wildcard && k == n - 1;
            if (prefix ? i - a < f.len : i - a != f.len) return 0;
            for (Py_ssize_t j = 0; j < f.len; j++) {
                Py_UCS4 c = at(wr, a + j - shift);
                if ((is_apos(c) ? '\'' : c) != at(&f, j)) return 0;
            }
        }
        k++;
    }
    return k == n;
}

/* run(title, summary) -> None | (evidence, totals): the Match of every kept hit in reading
 * order, and the per-label totals. */
static PyObject *Engine_run(Engine *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) { PyErr_SetString(PyExc_TypeError, "run(title, summary)"); return NULL; }
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Engine not initialised");
        return NULL;
    }
    PyObject *texts[2] = {args[0], args[1]}, *copy = NULL;
    Text t, tx[2];
    if (text_of(texts[0], &tx[0]) || text_of(texts[1], &tx[1])) return NULL;
    if (tx[0].len > INT_MAX / 4 || tx[1].len > INT_MAX / 4) {  /* offsets are ints */
        PyErr_SetString(PyExc_ValueError, "a field too long for the scan");
        return NULL;
    }
    Py_ssize_t bound = tx[0].len + 2;
    unsigned char *buf = NULL;
    if (PyUnicode_IS_ASCII(texts[0]) && PyUnicode_IS_ASCII(texts[1])) {
        /* The copy, made here: " " + title + NUL + " " + summary, lowercased, blanked. */
        t.kind = PyUnicode_1BYTE_KIND; t.len = bound + 1 + tx[1].len;
        buf = malloc(t.len + 1);
        if (!buf) return PyErr_NoMemory();
        const unsigned char *a = tx[0].data, *b = tx[1].data;
        buf[0] = ' '; buf[bound - 1] = 0; buf[bound] = ' ';
        for (Py_ssize_t i = 0; i < tx[0].len; i++) buf[i + 1] = self->lower_blank[a[i]];
        for (Py_ssize_t i = 0; i < tx[1].len; i++) buf[bound + 1 + i] = self->lower_blank[b[i]];
        t.data = buf;
    } else {
        copy = PyObject_CallFunctionObjArgs(self->scan_text, texts[0], texts[1], NULL);
        if (!copy) return NULL;
        if (text_of(copy, &t) || t.len != bound + 1 + tx[1].len) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "scan copy length");
            Py_DECREF(copy);
            return NULL;
        }
    }
    const Engine *e = self;
    int n_ids = e->n_rules + e->n_excls;
    PyObject *result = NULL;
    IntVec found = {0}, hits = {0}, excl = {0}, occ = {0}, wins = {0}, left = {0}, right = {0};
    /* seen[fi][id]: bit 1 first part seen, bit 2 second part seen; chain[fi][id]: its
     * occurrences in occ, (side, start, end, next), linked from 1 + the last one's index */
    unsigned char *seen = calloc(2 * (size_t)n_ids + 1, 1);
    int *chain = calloc(2 * (size_t)n_ids + 1, sizeof(int));
    int *best = malloc(((size_t)e->n_rules + 1) * sizeof(int));
    if (!seen || !best || !chain) { PyErr_NoMemory(); goto done; }
    for (int r = 0; r < e->n_rules; r++) best[r] = -1;
    for (int fi = 0; fi < 2; fi++) {
        Py_ssize_t lo = fi ? bound : 0, hi = fi ? t.len : bound, offset = lo;
        for (Py_ssize_t p = lo; p + 1 < hi; p++) {
            Py_UCS4 c = at(&t, p);
            if (c != ' ' && c != '\'' && c != 0x2019) continue;
            Py_ssize_t w = p + 1;
            found.n = 0;
            if (walk(e, &t, w, hi, &found)) goto done;
            if (!found.n) continue;
            int s = (int)(p - offset);
            int n_terms = 0;
            for (Py_ssize_t k = 0; k < found.n; k += 2) {
                int atom = found.v[k], end = found.v[k + 1];
                if (e->form_of[atom]) {
                    int ok = case_ok(e->form_of[atom], &t, tx, bound, w, end);
                    if (ok < 0) goto done;
                    if (!ok) continue;
                }
                int rel = end - (int)w;
                const Use *u = e->uses + e->use_lo[atom];
                for (int q = 0; q < e->use_n[atom]; q++) {
                    int kind = u[q].kind, index = u[q].index, side = u[q].side;
                    if (kind == K_TERM) {
                        if (e->rules[index].skip[fi]) continue;
                        if (best[index] < 0) { best[index] = rel; n_terms++; }
                        else if (best[index] < rel) best[index] = rel;
                    } else if (kind == K_EXCL) {
                        int x[4] = {fi, index, s, s + rel};
                        if (iv_push(&excl, x, 4)) goto done;
                    } else {
                        int id = kind == K_NEAR ? index : e->n_rules + index;
                        int x[4] = {side, s, s + rel, chain[fi * n_ids + id]};
                        seen[fi * n_ids + id] |= (unsigned char)(1 << side);
                        chain[fi * n_ids + id] = (int)(occ.n / 4) + 1;
                        if (iv_push(&occ, x, 4)) goto done;
                    }
                }
            }
            if (n_terms) {  /* each rule once per start, its longest phrase there */
                for (Py_ssize_t k = 0; k < found.n; k += 2) {
                    const Use *u = e->uses + e->use_lo[found.v[k]];
                    for (int q = 0; q < e->use_n[found.v[k]]; q++) {
                        int r = u[q].index;
                        if (u[q].kind != K_TERM || best[r] < 0) continue;
                        int x[4] = {fi, r, s, -(s + best[r])};
                        best[r] = -1;
                        if (iv_push(&hits, x, 4)) goto done;
                    }
                }
            }
        }
    }
    /* Near rules and near exclusions whose two parts occur in one field. */
    for (int fi = 0; fi < 2; fi++) {
        for (int id = 0; id < n_ids; id++) {
            if (seen[fi * n_ids + id] != 3) continue;
            if (id < e->n_rules && e->rules[id].skip[fi]) continue;
            left.n = right.n = 0;
            for (int k = chain[fi * n_ids + id]; k; k = occ.v[4 * (k - 1) + 3]) {
                const int *o = occ.v + 4 * (k - 1);
                if (iv_push(o[0] ? &right : &left, o + 1, 2)) goto done;
            }
            int distance, ordered, sentence;
            if (id < e->n_rules) {
                const Rule *r = &e->rules[id];
                distance = r->distance; ordered = r->ordered; sentence = r->sentence;
            } else {
                const Excl *x = &e->excls[id - e->n_rules];
                distance = x->distance; ordered = x->ordered; sentence = x->sentence;
            }
            wins.n = 0;
            if (near_windows(self, texts[fi], &tx[fi], left.v, (int)(left.n / 2), right.v,
                             (int)(right.n / 2), distance, ordered, sentence, &wins))
                goto done;
            for (Py_ssize_t k = 0; k < wins.n; k += 2) {
                if (id < e->n_rules) {
                    int x[4] = {fi, id, wins.v[k], -wins.v[k + 1]};
                    if (iv_push(&hits, x, 4)) goto done;
                } else {
                    int x[4] = {fi, id - e->n_rules, wins.v[k], wins.v[k + 1]};
                    if (iv_push(&excl, x, 4)) goto done;
                }
            }
        }
    }
    if (!hits.n) { result = Py_NewRef(Py_None); goto done; }
    /* Drop repeated (nested, same rule) and vetoed hits; keep (field, start, end, rule). */
    int n_hits = (int)(hits.n / 4);
    qsort(hits.v, n_hits, 4 * sizeof(int), quad_cmp);  /* (field, rule, start, -end) */
    int n_kept = 0, last_fi = -1, last_rule = -1, last_end = -1;
    for (int k = 0; k < n_hits; k++) {
        int *h = hits.v + 4 * k, fi = h[0], rule = h[1], s = h[2], en = -h[3];
        if (rule == last_rule && fi == last_fi && en <= last_end) continue;
        last_fi = fi; last_rule = rule; last_end = en;
        int label = e->rules[rule].label, vetoed = 0;
        for (Py_ssize_t x = 0; x < excl.n && !vetoed; x += 4) {
            int *sp = excl.v + x;
            vetoed = sp[0] == fi && e->excls[sp[1]].label == label && s < sp[3] && sp[2] < en;
        }
        if (vetoed) continue;
        int *kp = hits.v + 4 * n_kept++;  /* in place: n_kept <= k */
        kp[0] = fi; kp[1] = s; kp[2] = en; kp[3] = rule;
    }
    if (!n_kept) { result = Py_NewRef(Py_None); goto done; }
    qsort(hits.v, n_kept, 4 * sizeof(int), quad_cmp);  /* (field, start, end, rule) */
    /* Totals: rules in the order of their first kept hit (float sums depend on it); a rule
     * with a hit in the title counts its title weight. */
    double totals[8] = {0};
    unsigned char *counted = calloc((size_t)e->n_rules + 1, 2);
    if (!counted) { PyErr_NoMemory(); goto done; }
    unsigned char *in_title = counted + e->n_rules + 1;
    for (int k = 0; k < n_kept && hits.v[4 * k] == 0; k++) in_title[hits.v[4 * k + 3]] = 1;
    for (int k = 0; k < n_kept; k++) {
        int rule = hits.v[4 * k + 3];
        if (counted[rule]) continue;
        counted[rule] = 1;
        const Rule *r = &e->rules[rule];  /* (labels checked at init: 0 <= label < 8) */
        totals[r->label] += in_title[rule] ? r->title_weight : r->weight;
    }
    free(counted);
    PyObject *evidence = PyTuple_New(n_kept);
    PyObject *tot = evidence ? PyTuple_New(e->n_labels) : NULL;
    if (!tot) { Py_XDECREF(evidence); goto done; }
    for (int k = 0; k < e->n_labels; k++)
        PyTuple_SET_ITEM(tot, k, PyFloat_FromDouble(totals[k]));
    for (int k = 0; k < n_kept; k++) {
        const int *h = hits.v + 4 * k;
        PyObject *row = PySequence_GetItem(PyTuple_GET_ITEM(e->rows, h[0]), h[3]);
        PyObject *m = row && PyTuple_Check(row) && PyTuple_GET_SIZE(row) == 4
                      ? e->match_type->tp_alloc(e->match_type, 0) : NULL;
        PyObject *vals[7] = {NULL};
        if (m) {
            vals[0] = Py_NewRef(PyTuple_GET_ITEM(row, 0));
            vals[1] = Py_NewRef(PyTuple_GET_ITEM(row, 1));
            vals[2] = PyUnicode_Substring(texts[h[0]], h[1], h[2]);
            vals[3] = Py_NewRef(PyTuple_GET_ITEM(row, 2));
            vals[4] = PyLong_FromLong(h[1]);
            vals[5] = PyLong_FromLong(h[2]);
            vals[6] = Py_NewRef(PyTuple_GET_ITEM(row, 3));
            for (int j = 0; j < 7; j++)
                *(PyObject **)((char *)m + e->offsets[j]) = vals[j];
        }
        Py_XDECREF(row);
        if (!m || !vals[2] || !vals[4] || !vals[5]) {
            if (!m && !PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "rows");
            Py_XDECREF(m); Py_DECREF(evidence); Py_DECREF(tot);
            goto done;
        }
        PyTuple_SET_ITEM(evidence, k, m);
    }
    result = PyTuple_Pack(2, evidence, tot);
    Py_DECREF(evidence); Py_DECREF(tot);
done:
    free(seen); free(best); free(chain); free(buf);
    Py_XDECREF(copy);
    free(found.v); free(hits.v); free(excl.v); free(occ.v); free(wins.v); free(left.v);
    free(right.v);
    return result;
}

static PyMethodDef Engine_methods[] = {
    {"run", (PyCFunction)(void (*)(void))Engine_run, METH_FASTCALL,
     "run(title, summary) -> None | (evidence, totals)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "feeds.classify._scan.Engine",
    .tp_basicsize = sizeof(Engine),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Engine_init,
    .tp_dealloc = (destructor)Engine_dealloc,
    .tp_methods = Engine_methods,
    .tp_doc = "The classifier's scan, near pairing, exclusions and totals for one item.",
};

static struct PyModuleDef scan_module = {
    PyModuleDef_HEAD_INIT, "_scan", "The classifier's per-item work in C.", -1, NULL, NULL, NULL,
    NULL, NULL,
};

PyMODINIT_FUNC PyInit__scan(void) {
    for (int c = 0; c < 128; c++)
        ascii_word[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '_';
    if (PyType_Ready(&EngineType) < 0) return NULL;
    PyObject *m = PyModule_Create(&scan_module);
    if (!m) return NULL;
    if (PyModule_AddObject(m, "Engine", Py_NewRef((PyObject *)&EngineType)) < 0) {
        Py_DECREF(&EngineType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
