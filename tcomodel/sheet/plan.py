"""The compiled evaluation behind ``sheet.engine.evaluate``.

A plan is the schedule of one evaluation worked out once: the items dependencies-first, each expression
tree flattened into a list of numpy calls over numbered registers, identical sub-expressions computed once
(the same operation on the same registers), constant sub-expressions folded, and each register dropped
after its last reader. A recurrence is compiled to one period's program and stepped over the periods
(``_Group``, ``step_group``); a running maximum or a running sum is one numpy call where that is exact.
Every operation gives what the tree interpreter (``sheet.engine._Evaluator``) gives on the same arrays, to the bit.
Some of the items of a compiled plan (the tornado's metrics of the model) are its ops that lead to them
(``Plan.sliced``), not a second compile.
"""

from __future__ import annotations

import collections
import math

import numpy as np

from tcomodel.sheet.expr import (
    Aggregate, BinOp, Compare, Const, Expr, Func, Input, Item, Neg, Prev, RowRef, SheetError,
)
from tcomodel.sheet.functions import FUNCTIONS, approx_equal, clean
from tcomodel.sheet.schedule import collect_items, is_running_max, is_running_sum, sccs, shape_of, topo_same_period

class Static:
    """What does not depend on the number of periods: the items, their inputs, the plans per period count."""

    __slots__ = ("items", "only", "all_items", "names", "plans", "edges")

    def __init__(self, items: tuple, only: bool):
        self.items = items
        self.only = only
        self.all_items = collect_items(items)
        names = {}
        self.edges = {}  # item -> the items its expression reads
        for it in self.all_items:
            refs, item_names = it.reads
            self.edges[it] = [r for r, _ in refs]
            for n in item_names:
                names[(type(n), n.name)] = n
        self.names = list(names.values())
        self.plans: dict[int, Plan] = {}


_E48 = 2.0 ** -48  # LibreOffice's approximate-equality tolerance (functions.approx_equal)
_STATIC_CACHE: dict[tuple, Static] = {}
_STATIC_CACHE_SIZE = 16  # a build evaluates a handful of item lists (model, metrics, levelized costs)


def static_of(items: tuple, only: bool) -> Static:
    key = (items, only)
    s = _STATIC_CACHE.pop(key, None)
    if s is None:
        s = Static(items, only)
        while len(_STATIC_CACHE) >= _STATIC_CACHE_SIZE:
            _STATIC_CACHE.pop(next(iter(_STATIC_CACHE)))
    _STATIC_CACHE[key] = s  # most recently used last
    return s


# One scenario's scalars are one-cell arrays. numpy costs about a microsecond a call whatever the size, and + and -
# make eight calls for their approximate-equality screen, so one-cell operands take Python floats: IEEE + - * /
# are correctly rounded in both, and each branch below is the array code's, so the bits are the same
# (tests/test_sheet_vectorised.py compares the two on random and edge-case operands).
_ONE = (1,)
_NAN = float("nan")
_isfinite = math.isfinite


def _one(x: float) -> np.ndarray:
    return np.array((x if _isfinite(x) else _NAN,))  # clean(): an infinity is an error


def _add(a, b):
    if a.shape == _ONE and b.shape == _ONE:
        return _one(_add_floats(float(a[0]), float(b[0])))
    r = a + b
    # LibreOffice's approximate equality zeroes a + b where |a + b| < 2^-48 min(|a|, |b|) (or a = -b); where
    # |a + b| >= 2^-48 |a| everywhere no element qualifies, so the full test runs only where one might.
    # (Operands are finite or NaN: an infinite input is made NaN when it is loaded, and every result is cleaned.)
    m = np.abs(r)
    if (m < np.abs(a) * _E48).any():
        return clean(np.where(approx_equal(a, -b), 0.0, r))
    r += 0.0  # -0.0 + -0.0 is -0.0; the rule's 0 is +0.0
    return r if m.max(initial=0.0) < np.inf else clean(r)  # no overflow, no NaN: nothing to clean


def _add_floats(x: float, y: float) -> float:
    r = x + y
    if abs(r) < abs(x) * _E48:  # False where r is NaN: in this branch x and y are numbers
        return 0.0 if _approx_equal_floats(x, -y) else r
    return r + 0.0


def _sub(a, b):
    if a.shape == _ONE and b.shape == _ONE:
        return _one(_sub_floats(float(a[0]), float(b[0])))
    r = a - b
    m = np.abs(r)
    if (m < np.abs(a) * _E48).any():
        return clean(np.where(approx_equal(a, b), 0.0, r))
    r += 0.0
    return r if m.max(initial=0.0) < np.inf else clean(r)


def _sub_floats(x: float, y: float) -> float:
    r = x - y
    if abs(r) < abs(x) * _E48:
        return 0.0 if _approx_equal_floats(x, y) else r
    return r + 0.0


def _approx_equal_floats(x: float, y: float) -> bool:
    """functions.approx_equal of two numbers (not NaN: Python's min() would not keep it as np.minimum does)."""
    return x == y or abs(x - y) < min(abs(x), abs(y)) * _E48


def _mul(a, b):
    if a.shape == _ONE and b.shape == _ONE:
        return _one(float(a[0]) * float(b[0]))
    return clean(a * b)


def _div(a, b):
    if a.shape == _ONE and b.shape == _ONE:
        y = float(b[0])
        return _one(float(a[0]) / y if y != 0.0 else _NAN)  # x / 0: #DIV/0!
    # x / 0 is ±inf or NaN (0 / 0), which clean() makes NaN (#DIV/0!): the same as testing b == 0 first
    return clean(a / b)


def _pow(a, b):
    # an error stays an error: numpy's nan**0 and 1**nan are 1
    return clean(np.where(np.isnan(a) | np.isnan(b) | ((a == 0) & (b <= 0)), np.nan, np.power(a, b)))


_FLOAT_COMPARES = {"=": lambda x, y, eq: eq, "<>": lambda x, y, eq: not eq, ">": lambda x, y, eq: x > y and not eq,
                   ">=": lambda x, y, eq: x > y or eq, "<": lambda x, y, eq: x < y and not eq,
                   "<=": lambda x, y, eq: x < y or eq}


def _compare_fn(op):
    one_cell = _FLOAT_COMPARES[op]

    def f(a, b):
        if a.shape == _ONE and b.shape == _ONE:
            x, y = float(a[0]), float(b[0])
            if x != x or y != y:  # an error compared is an error
                return np.array((_NAN,))
            return np.array((1.0 if one_cell(x, y, _approx_equal_floats(x, y)) else 0.0,))
        diff = a - b  # NaN exactly where a or b is (operands are finite or NaN)
        eq = (a == b) | (np.abs(diff) < np.minimum(np.abs(a), np.abs(b)) * _E48)  # approx_equal, its a - b shared
        if op == "=":
            r = eq
        elif op == "<>":
            r = ~eq
        elif op == ">":
            r = (a > b) & ~eq
        elif op == ">=":
            r = (a > b) | eq
        elif op == "<":
            r = (a < b) & ~eq
        else:
            r = (a < b) | eq
        return np.where(np.isnan(diff), np.nan, r.astype(float))
    return f


def _compare_zero_fn(op):
    """a compared with 0: approximate equality with 0 is a == 0 (the bound 2^-48 min(|a|, 0) is 0), so the IEEE
    comparison is the spreadsheet's."""
    cmp = {"=": np.equal, "<>": np.not_equal, ">": np.greater, ">=": np.greater_equal, "<": np.less,
           "<=": np.less_equal}[op]

    def f(a, b):
        return np.where(np.isnan(a), np.nan, cmp(a, 0.0).astype(float))
    return f


_BINOPS = {"+": _add, "-": _sub, "*": _mul, "/": _div, "^": _pow}
_COMPARES = {op: _compare_fn(op) for op in ("=", "<>", ">", ">=", "<", "<=")}
_COMPARES_ZERO = {op: _compare_zero_fn(op) for op in _COMPARES}


def _is_const(consts: dict, r: int, value: float) -> bool:
    v = consts.get(r)
    return v is not None and v.shape == (1,) and v[0] == value and not np.signbit(v[0])


def _unit_operand(consts: dict, op: str, a: int, b: int) -> int | None:
    """x * 1 and 1 * x are x, bit for bit (the model writes * 1 to keep a formula's shape): x's register."""
    if op == "*":
        if _is_const(consts, b, 1.0):
            return a
        if _is_const(consts, a, 1.0):
            return b
    return None


def _compare_for(consts: dict, op: str, b: int):
    return _COMPARES_ZERO[op] if _is_const(consts, b, 0.0) else _COMPARES[op]


# op kinds of a plan
_CALL, _FREE, _CTX = 0, 1, 2  # fn(*registers); drop registers; fn(plan state, registers) (recurrences)


class Plan:
    """One evaluation, compiled: see the comment above. ``run`` executes it."""

    def __init__(self, static: Static, P: int):
        self.P = P
        self.ops: list[tuple] = []  # (kind, fn, argument registers, output register)
        self.reads: list[tuple] = []  # registers each op reads (for their lifetimes)
        self.writes: list[tuple] = []  # registers each op writes
        self.nregs = 0
        self.consts: list[tuple[int, np.ndarray]] = []
        self.loads: list[tuple[int, str, bool]] = []  # (register, input name, is a row)
        self.item_reg: dict[Item, int] = {}
        self._memo: dict[Expr, int] = {}  # node -> register (a node object used twice; nodes hash by identity)
        self._cse: dict[tuple, int] = {}  # (operation, registers) -> register
        self._const_of: dict[int, np.ndarray] = {}
        self._names: dict[tuple, int] = {}
        self._compile(static)
        del self._memo, self._cse, self._names

    # --- registers --------------------------------------------------------------------------------
    def _new(self) -> int:
        self.nregs += 1
        return self.nregs - 1

    def _const(self, value: np.ndarray) -> int:
        key = ("const", value.shape, value.tobytes())
        r = self._cse.get(key)
        if r is None:
            r = self._cse[key] = self._new()
            self.consts.append((r, value))
            self._const_of[r] = value
        return r

    def _load(self, name: str, is_row: bool) -> int:
        r = self._names.get((name, is_row))
        if r is None:
            r = self._names[(name, is_row)] = self._new()
            self.loads.append((r, name, is_row))
        return r

    def _emit(self, key: tuple, fn, args: tuple, fold: bool = True) -> int:
        """The register holding ``fn(*args)``: an earlier identical operation's, a folded constant's, or a new op's."""
        r = self._cse.get(key)
        if r is not None:
            return r
        if fold and all(map(self._const_of.__contains__, args)):
            with np.errstate(all="ignore"):
                value = np.asarray(fn(*(self._const_of[a] for a in args)), dtype=float)
            r = self._const(value)
        else:
            r = self._new()
            self.ops.append((_CALL, fn, args, r))
            self.reads.append(args)
            self.writes.append((r,))
        self._cse[key] = r
        return r

    # --- expressions ------------------------------------------------------------------------------
    def _expr(self, e: Expr) -> int:
        r = self._memo.get(e)
        if r is not None:
            return r
        t = type(e)
        if t is Const:
            r = self._const(np.array([e.value]))
        elif t is Input:
            r = self._load(e.name, False)
        elif t is RowRef:
            r = self._load(e.name, True)
        elif t is Item:
            r = self.item_reg.get(e)
            if r is None:  # pragma: no cover - the schedule computes references first
                raise SheetError(f"line item {e.label!r} used before it is computed")
        elif t is BinOp:
            a, b = self._expr(e.a), self._expr(e.b)
            fn = _BINOPS.get(e.op)
            if fn is None:  # pragma: no cover
                raise SheetError(f"unknown operator {e.op}")
            one = _unit_operand(self._const_of, e.op, a, b)
            r = one if one is not None else self._emit(("bin", e.op, a, b), fn, (a, b))
        elif t is Neg:
            a = self._expr(e.a)
            r = self._emit(("neg", a), np.negative, (a,))
        elif t is Compare:
            a, b = self._expr(e.a), self._expr(e.b)
            r = self._emit(("cmp", e.op, a, b), _compare_for(self._const_of, e.op, b), (a, b))
        elif t is Func:
            args = tuple(self._expr(a) for a in e.args)
            r = self._emit(("f", e.name) + args, FUNCTIONS[e.name].numpy, args)
        elif t is Aggregate:
            rows = tuple(self._row(x) for x in e.rows)
            scalars = tuple(self._expr(s) for s in e.scalars)
            fn = _aggregate_fn(FUNCTIONS[e.name].numpy, len(rows), self.P)
            r = self._emit(("agg", e.name) + rows + ("|",) + scalars, fn, rows + scalars, fold=False)
        elif t is Prev:
            x = self._expr(e.item)
            init = self._expr(e.init)
            r = self._emit(("prev", x, init), _prev_fn(self.P), (x, init), fold=False)
        else:  # pragma: no cover
            raise SheetError(f"cannot evaluate {e!r}")
        self._memo[e] = r
        return r

    def _row(self, x) -> int:
        if isinstance(x, Item) and x not in self.item_reg:
            raise SheetError(f"{x.label!r} is aggregated inside its own recurrence")
        r = self._expr(x)
        return self._emit(("row", r), _widen_fn(self.P), (r,), fold=False)

    def _item(self, it: Item) -> None:
        r = self._expr(it.expr)
        if it.per_period and it.expr.is_scalar:  # a row item of a one-cell expression: spread over the periods
            r = self._emit(("spread", r), _spread_fn(self.P), (r,), fold=False)
        if it.per_period or not it.is_scalar:
            first, stop = it.blank(self.P)
            if (first, stop) != (0, self.P):
                r = self._emit(("blank", r, first, stop), _blank_outside_fn(first, stop, self.P), (r,), fold=False)
        self.item_reg[it] = r

    def _ctx_op(self, fn, reads: tuple, writes: tuple) -> None:
        """An op that reads and writes registers itself (a recurrence): ``fn(state, R)``."""
        self.ops.append((_CTX, fn, None, None))
        self.reads.append(tuple(reads))
        self.writes.append(tuple(writes))

    def _running_max(self, it: Item) -> None:
        """``x = MAX(prev(x, init), e)`` (see ``is_running_max``) as one running maximum: exact, since MAX is."""
        e = it.expr
        init = self._expr(e.args[0].init)  # its first period is the stepped recurrence's init
        x = self._expr(e.args[1])
        out = self.item_reg[it] = self._new()
        P = self.P

        def run(state, R):
            i = R[init][..., :1]
            v = R[x]
            shape = np.broadcast_shapes(state.batch + (1,), i.shape, v.shape[:-1] + (1,))[:-1]
            v = np.broadcast_to(v, shape + (P,))
            i = np.broadcast_to(i, shape + (1,))
            # period t = max(init, x_0..x_t-1, x_t): np.maximum propagates NaN as MAX does
            R[out] = np.maximum.accumulate(np.concatenate([i, v], axis=-1), axis=-1)[..., 1:]
            first, stop = it.blank(P)
            if (first, stop) != (0, P):
                R[out] = _blank_outside_fn(first, stop, P)(R[out])
        self._ctx_op(run, (init, x), (out,))

    # --- the schedule (what ``evaluate`` did item by item, now once) ------------------------------
    def _running_sum(self, order: list[Item], ext: list[Item]) -> None:
        """``x = prev(x, init) + e`` (a cumulative cash row) as one cumulative sum, where it is exact: numpy's
        cumsum adds in the same order as the steps, so it is the stepped row unless a step would meet the
        approximate-equality rule (a sum that cancels to ~0) or a non-finite value; then the steps run."""
        it = order[0]
        e = it.expr
        prev_first = isinstance(e.a, Prev) and e.a.item is it
        p, other = (e.a, e.b) if prev_first else (e.b, e.a)
        init, x = self._expr(p.init), self._expr(other)
        g = _Group(self, [(order, ext)])  # the steps, where the cumulative sum is not exact
        out = self.item_reg[it]
        P = self.P

        def run(state, R):
            i, v = R[init][..., :1], R[x]
            shape = np.broadcast_shapes(state.batch + (1,), i.shape, v.shape[:-1] + (1,))[:-1]
            v = np.broadcast_to(v, shape + (P,))
            c = np.cumsum(np.concatenate([np.broadcast_to(i, shape + (1,)), v], axis=-1), axis=-1)
            if np.isfinite(c).all() and not approx_equal(c[..., :-1], -v).any():
                R[out] = c[..., 1:] + 0.0  # the steps' zeros are +0.0
            else:
                step_group(state, R, g)
        self._ctx_op(run, (init, x) + g.reads, g.writes)

    def _compile(self, static: Static) -> None:
        all_items = static.all_items
        edges = static.edges
        # Recurrences of the same shape (one corkscrew per purchase quarter) wait here and are stepped through
        # the periods together, stacked on a leading axis: one Python loop over periods per shape, not per
        # corkscrew. A group is stepped as soon as something needs one of its items (or at the end).
        pending: dict[tuple, list] = {}
        pending_of: dict[Item, tuple] = {}

        def step(group):
            g = _Group(self, group)
            self._ctx_op(lambda state, R, g=g: step_group(state, R, g), g.reads, g.writes)

        def need(refs):
            for r in refs:
                key, group = pending_of.get(r, (None, None))
                if group is not None and pending.get(key) is group:
                    step(pending.pop(key))

        for comp in sccs(all_items, edges):
            recurrent = len(comp) > 1 or any(r is comp[0] for r in edges[comp[0]])
            if not recurrent:
                it = comp[0]
                need(edges[it])
                self._item(it)
                continue
            order = topo_same_period(comp)
            members = set(order)
            need(r for it in order for r in edges[it] if r not in members)
            if is_running_max(order):
                self._running_max(order[0])
                continue
            key, ext = shape_of(order)
            if is_running_sum(order):
                self._running_sum(order, ext)
                continue
            if key is None:
                step([(order, ext)])
                continue
            group = pending.setdefault(key, [])
            group.append((order, ext))
            for it in order:
                pending_of[it] = (key, group)
        for key in list(pending):
            step(pending.pop(key))

        self._schedule = (self.ops, self.reads, self.writes)  # before the frees: what ``sliced`` takes ops from
        self._finish(static)

    @classmethod
    def sliced(cls, whole: "Plan", static: Static) -> "Plan | None":
        """The plan of ``static``'s items, which ``whole`` computes too: ``whole``'s ops that lead to them, in its
        order. The same operations on the same registers as ``whole`` (which gives what a plan of these items
        compiled alone gives, to the bit), without compiling them again. None where those ops would read an
        input the items do not (a recurrence stepped together with others computes them all): the items'
        evaluation must not need, or broadcast against, values it has no use for."""
        self = cls.__new__(cls)
        self.P, self.nregs = whole.P, whole.nregs
        need = {whole.item_reg[it] for it in _outputs(static)}
        ops, reads, writes = [], [], []
        for op, r, w in zip(*(reversed(x) for x in whole._schedule)):
            if not need.isdisjoint(w):
                need.update(r)
                ops.append(op)
                reads.append(r)
                writes.append(w)
        self.ops, self.reads, self.writes = ops[::-1], reads[::-1], writes[::-1]
        # the items this slice computes (a register it needs holds its value), so a slice is sliced no further
        self.item_reg = {it: r for it, r in whole.item_reg.items() if r in need}
        self.consts = [(r, v) for r, v in whole.consts if r in need]
        self.loads = [x for x in whole.loads if x[0] in need]
        if not {name for _, name, _ in self.loads} <= {n.name for n in static.names}:
            return None
        self._const_of = dict(self.consts)
        self._schedule = (self.ops, self.reads, self.writes)
        self._finish(static)
        return self

    def _finish(self, static: Static) -> None:
        outs = _outputs(static)
        regs = [self.item_reg[it] for it in outs]
        # an output computed into an array of its own is handed out as it is; one shared (two items of the same
        # expression, a constant, an input) is copied
        shared = {r for r, n in collections.Counter(regs).items() if n > 1}
        own = {op[3] for op in self.ops if op[0] == _CALL} - set(self._const_of) - shared
        self.outputs = [(it, r, it.per_period or not it.is_scalar, r in own) for it, r in zip(outs, regs)]
        self._lifetimes({r for _, r, _, _ in self.outputs} | set(self._const_of))

    def _lifetimes(self, keep: set) -> None:
        """Insert a free after the last reader of each register (outputs and constants are kept)."""
        last: dict[int, int] = {}
        for k, regs in enumerate(self.writes):  # a result nobody reads goes right away
            for r in regs:
                last.setdefault(r, k)
        for k, regs in enumerate(self.reads):
            for r in regs:
                last[r] = k
        free_after: dict[int, list[int]] = {}
        for r, k in last.items():
            if r not in keep:
                free_after.setdefault(k, []).append(r)
        ops = []
        live = len(self.consts) + len(self.loads)  # each register is written once, freed once at most
        self.max_live = live  # registers alive at once, at most (a recurrence's own ones aside)
        for k, op in enumerate(self.ops):
            ops.append(op)
            live += len(self.writes[k])
            self.max_live = max(self.max_live, live)
            if k in free_after:
                ops.append((_FREE, None, tuple(free_after[k]), None))
                live -= len(free_after[k])
        self.ops = ops
        del self.reads, self.writes

    # --- running ----------------------------------------------------------------------------------
    def run(self, values: dict, batch: tuple) -> dict[Item, np.ndarray]:
        R: list = [None] * self.nregs
        for r, v in self.consts:
            R[r] = v
        for r, name, is_row in self.loads:
            v = np.asarray(values[name], dtype=float)
            if not np.isfinite(v).all():  # an infinity is an error, as in a spreadsheet (no cell holds one)
                v = clean(v)
            R[r] = v if is_row else v[..., None]
        state = _RunState(batch, self.P)
        with np.errstate(all="ignore"):
            for kind, fn, args, out in self.ops:
                if kind == _CALL:
                    R[out] = fn(*[R[a] for a in args])
                elif kind == _FREE:
                    for a in args:
                        R[a] = None
                else:
                    fn(state, R)
        P = self.P
        out = {}
        # an array is handed out as it is once at most, and never an input's or a constant's (a function may
        # return its argument: SUM of one row)
        handed = {id(v) for v in values.values()} | {id(v) for _, v in self.consts}
        for it, r, row, own in self.outputs:
            v = R[r]
            mine = own and v.base is None and id(v) not in handed
            handed.add(id(v))
            if row:
                full = batch + (P,)
                out[it] = v if mine and v.shape == full else np.array(np.broadcast_to(v, full))
            else:
                one = mine and v.shape == batch + (1,)
                out[it] = v.reshape(batch) if one else np.array(np.broadcast_to(v[..., 0], batch))
        return out


def _outputs(static: Static) -> list[Item]:
    """The items an evaluation hands out: those asked for (``only``), else every item it computes."""
    return list(dict.fromkeys(static.items)) if static.only else static.all_items


def covering_plan(static: Static, P: int) -> Plan | None:
    """For an evaluation of just some items (``only``): a plan already compiled for P periods that computes them
    all (the whole model, when the tornado or a sweep asks for its metrics), to slice this one from."""
    if not static.only:
        return None
    outs = _outputs(static)
    for s in reversed(_STATIC_CACHE.values()):
        plan = s.plans.get(P)
        if s is not static and plan is not None and all(it in plan.item_reg for it in outs):
            return plan
    return None


def _blank_outside_fn(first, stop, P):
    """A row with the periods outside first..stop-1 set to 0: what a blank cell reads as (``Item.first_period``)."""
    keep = np.zeros(P, dtype=bool)
    keep[first:stop] = True

    def blank_outside(v):
        return np.where(keep, v, 0.0)  # a new array: the value may be a view or shared
    return blank_outside


def _widen_fn(P):
    """A row of P periods from a value that may be one cell ([..., 1]); a row is read as it is."""
    ones = np.ones(P)

    def widen(v):
        if v.shape[-1] == P:
            return v
        return v * ones  # x * 1.0 is x, bit for bit (-0.0 and NaN included); cheaper than np.broadcast_to
    return widen


def _spread_fn(P):
    """A one-cell value ([..., 1]) over P periods, as an array of its own."""
    ones = np.ones(P)

    def spread(v):
        return v * ones
    return spread


def _aggregate_fn(numpy_fn, n_rows, P):
    def agg(*args):
        return numpy_fn(list(args[:n_rows]), list(args[n_rows:]), P)
    return agg


def _prev_fn(P):
    def prev_row(x, init):
        init = init[..., :1]
        shape = np.broadcast_shapes(x.shape[:-1], init.shape[:-1])
        x = np.broadcast_to(x, shape + (x.shape[-1],))
        if x.shape[-1] == 1:  # a scalar item: constant over periods
            x = np.broadcast_to(x, shape + (P,))
        return np.concatenate([np.broadcast_to(init, shape + (1,)), x[..., :-1]], axis=-1)
    return prev_row


class _RunState:
    __slots__ = ("batch", "P")

    def __init__(self, batch: tuple, P: int):
        self.batch, self.P = batch, P


_STEP_CALL, _STEP_T, _STEP_STORE = 0, 1, 2  # in a group's period step: fn(*R); fn(t, buffers, *R); buffer <- R


class _Group:
    """Recurrences of one shape, compiled: the expressions of one period as a program over registers, where an
    item of the recurrence reads its buffer at period t (or t - 1 for prev), an item from outside its value at t,
    and operations that do not depend on t run once before the loop. ``group``: (items in same-period order,
    external items) per recurrence; several are stacked on a leading axis and stepped together. The operations
    are those of the tree interpreter (``_Evaluator.ev`` at period t) on the same arrays."""

    def __init__(self, plan: Plan, group: list):
        self.plan = plan
        self.G = len(group)
        rep_order, rep_ext = group[0]
        self.items = [[order[i] for order, _ in group] for i in range(len(rep_order))]  # position -> item per g
        # position -> per g, True where the item's cell at period t is blank (Item.first_period), [P, G]; None: none
        self.blank = []
        for items in self.items:
            spans = [it.blank(plan.P) for it in items]
            t = np.arange(plan.P)[:, None]
            mask = (t < np.array([a for a, _ in spans])) | (t >= np.array([b for _, b in spans]))
            self.blank.append(mask if mask.any() else None)
        self.own = {it: i for i, it in enumerate(rep_order)}
        # (register, the external items' registers per g, periods first): their values stacked on a leading axis
        self.stack: list[tuple[int, list[int], bool]] = []
        self.ext: dict[Item, tuple[list[int], bool]] = {}  # external item -> (registers per g, a row in some g)
        self.local: set[int] = set()
        self._fixed: set[int] = set()  # registers that do not depend on t
        self.pre: list[tuple] = []  # once, before the loop
        self.step: list[tuple] = []  # every period
        self._memo: dict[Expr, int] = {}
        self._cse: dict[tuple, int] = {}
        reads: dict[int, None] = {}
        for k, x in enumerate(rep_ext):
            per_g = [ext[k] for _, ext in group]
            self.ext[x] = ([plan.item_reg[it] for it in per_g], any(it.per_period or not it.is_scalar for it in per_g))
            reads.update(dict.fromkeys(self.ext[x][0]))
        for i, it in enumerate(rep_order):
            self.step.append((_STEP_STORE, None, (self._expr(it.expr),), i))
        for op in self.pre + self.step:
            reads.update(dict.fromkeys(a for a in op[2] if a not in self.local))
        self.reads = tuple(reads)
        self.writes = tuple(plan.item_reg.setdefault(it, plan._new()) for items in self.items for it in items)
        del self._memo, self._cse, self._fixed

    def __len__(self):
        return self.G

    def _ext_value(self, x: Item) -> int:
        """An external item's register as it is ([..., P] or [..., 1]); several recurrences' stacked."""
        regs, _ = self.ext[x]
        if self.G == 1:
            return self._leaf(regs[0])
        return self._stacked(regs, False)

    def _ext_periods_first(self, x: Item) -> int:
        """An external row's values periods first (see ``_periods_first``); several recurrences' stacked."""
        regs, _ = self.ext[x]
        if self.G == 1:
            return self._periods_first(self._leaf(regs[0]))
        return self._stacked(regs, True)

    def _stacked(self, regs: list[int], periods_first: bool) -> int:
        key = ("stack", tuple(regs), periods_first)
        r = self._cse.get(key)
        if r is None:
            r = self._cse[key] = self._leaf(self._new())
            self.stack.append((r, regs, periods_first))
        return r

    def _new(self) -> int:
        r = self.plan._new()
        self.local.add(r)
        return r

    def _op(self, key: tuple, kind: int, fn, args: tuple) -> int:
        r = self._cse.get(key)
        if r is not None:
            return r
        r = self._cse[key] = self._new()
        fixed = kind == _STEP_CALL and all(a in self._fixed for a in args)
        (self.pre if fixed else self.step).append((kind, fn, args, r))
        if fixed:
            self._fixed.add(r)
        return r

    def _leaf(self, r: int) -> int:
        self._fixed.add(r)
        return r

    def _expr(self, e: Expr) -> int:
        r = self._memo.get(e)
        if r is not None:
            return r
        plan, t = self.plan, type(e)
        if t is Const:
            r = self._leaf(plan._const(np.array([e.value])))
        elif t is Input:
            r = self._leaf(plan._load(e.name, False))
        elif t is RowRef:
            x = self._periods_first(self._leaf(plan._load(e.name, True)))
            r = self._op(("at", x), _STEP_T, _at_row, (x,))
        elif t is Item:
            r = self._item(e, 0)
        elif t is Prev:
            init = self._expr(e.init)
            if e.item in self.own:
                i = self.own[e.item]
                r = self._op(("prev", init, "buf", i), _STEP_T, lambda t, B, v, i=i: v[..., :1] if t == 0
                             else B[i][t - 1], (init,))
            elif e.item in self.ext:
                if self.ext[e.item][1]:
                    x = self._ext_periods_first(e.item)
                    r = self._op(("prev", init, x), _STEP_T, _prev_row_at, (init, x))
                else:
                    x = self._ext_value(e.item)
                    r = self._op(("prev", init, x), _STEP_T, _prev_scalar_at, (init, x))
            else:  # pragma: no cover - a recurrence's items are its own or outside it
                raise SheetError(f"line item {e.item.label!r} used before it is computed")
        elif t is BinOp:
            a, b = self._expr(e.a), self._expr(e.b)
            one = _unit_operand(plan._const_of, e.op, a, b)
            r = one if one is not None else self._op(("bin", e.op, a, b), _STEP_CALL, _BINOPS[e.op], (a, b))
        elif t is Neg:
            a = self._expr(e.a)
            r = self._op(("neg", a), _STEP_CALL, np.negative, (a,))
        elif t is Compare:
            a, b = self._expr(e.a), self._expr(e.b)
            r = self._op(("cmp", e.op, a, b), _STEP_CALL, _compare_for(plan._const_of, e.op, b), (a, b))
        elif t is Func:
            args = tuple(self._expr(a) for a in e.args)
            r = self._op(("f", e.name) + args, _STEP_CALL, FUNCTIONS[e.name].numpy, args)
        elif t is Aggregate:  # whole rows of items from outside (the interpreter evaluates them at t = None)
            rows = []
            for x in e.rows:
                if isinstance(x, Item):
                    if x not in self.ext:
                        raise SheetError(f"{x.label!r} is aggregated inside its own recurrence")
                    src = self._ext_value(x)
                else:
                    src = self._leaf(plan._load(x.name, True))
                rows.append(self._op(("row", src), _STEP_CALL, _widen_fn(plan.P), (src,)))
            scalars = tuple(self._expr(s) for s in e.scalars)
            fn = _aggregate_fn(FUNCTIONS[e.name].numpy, len(rows), plan.P)
            r = self._op(("agg", e.name) + tuple(rows) + ("|",) + scalars, _STEP_CALL, fn, tuple(rows) + scalars)
        else:  # pragma: no cover
            raise SheetError(f"cannot evaluate {e!r}")
        self._memo[e] = r
        return r

    def _item(self, it: Item, lag: int) -> int:
        if it in self.own:
            i = self.own[it]
            return self._op(("buf", i), _STEP_T, lambda t, B, i=i: B[i][t], ())
        if it not in self.ext:  # pragma: no cover
            raise SheetError(f"line item {it.label!r} used before it is computed")
        if not self.ext[it][1]:  # a scalar item is the same every period
            return self._ext_value(it)
        x = self._ext_periods_first(it)
        return self._op(("at", x), _STEP_T, _at_row, (x,))

    def _periods_first(self, r: int) -> int:
        """``r``'s rows with the period axis first (once, before the loop), so that period t is one contiguous
        block: stepping reads it period by period, and a strided slice per period is several times slower."""
        return self._op(("periods first", r), _STEP_CALL, _periods_first, (r,))


def _periods_first(v):
    """[..., P] -> [P, ..., 1]: ``_periods_first(v)[t]`` has the values of ``v[..., t:t + 1]``."""
    return np.ascontiguousarray(np.moveaxis(v, -1, 0))[..., None]


def _at_row(t, B, vt):
    return vt[t]


def _prev_row_at(t, B, init, vt):
    return init[..., :1] if t == 0 else vt[t - 1]


def _prev_scalar_at(t, B, init, v):
    return init[..., :1] if t == 0 else v


def step_group(state: _RunState, R: list, group: _Group) -> None:
    """The true recurrences: step period by period (a period needs the previous one's values); ``group``'s
    recurrences (``len(group)`` of them) stacked on a leading axis, one loop over the periods for all."""
    batch, P, G = state.batch, state.P, group.G
    for r, regs, periods_first in group.stack:
        arrays = [R[x] for x in regs]
        if periods_first:  # stacked and turned in one copy
            s = R[r] = np.empty((P, G) + batch + (1,))
            for g, a in enumerate(arrays):
                s[:, g, ..., 0] = np.moveaxis(np.broadcast_to(a, batch + (P,)), -1, 0)
        else:
            last = max(a.shape[-1] for a in arrays)
            R[r] = np.stack([np.broadcast_to(a, batch + (last,)) for a in arrays])
    lead = ((G,) if G > 1 else ()) + batch
    B = [np.full((P,) + lead + (1,), np.nan) for _ in group.items]  # period first: see _periods_first
    for _, fn, args, out in group.pre:
        R[out] = fn(*[R[a] for a in args])
    step, blank = group.step, group.blank
    for t in range(P):
        for kind, fn, args, out in step:
            if kind == _STEP_CALL:
                R[out] = fn(*[R[a] for a in args])
            elif kind == _STEP_T:
                R[out] = fn(t, B, *[R[a] for a in args])
            else:
                B[out][t] = R[args[0]]
                if blank[out] is not None:  # a blank cell of the item reads as 0
                    if G == 1:
                        if blank[out][t, 0]:
                            B[out][t] = 0.0
                    else:
                        B[out][t][blank[out][t]] = 0.0
    reg = group.plan.item_reg
    for i, items in enumerate(group.items):
        b = np.ascontiguousarray(np.moveaxis(B[i][..., 0], 0, -1))  # back to [..., P]
        if G == 1:
            R[reg[items[0]]] = b
        else:
            for g, it in enumerate(items):
                R[reg[it]] = b[g]
    for r in group.local:
        R[r] = None
