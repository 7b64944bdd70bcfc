"""Expression trees for line items: defined once, evaluated in numpy and rendered as Excel formulas.

Nodes are immutable except ``Item`` (its expression may be defined after creation so that a balance
can refer to its own previous period). ``==`` is deliberately not overloaded (items are dict keys);
use ``a.eq(b)`` / ``a.ne(b)``. ``<``, ``<=``, ``>``, ``>=`` build 0/1 comparison nodes.
"""

from __future__ import annotations

import math
from typing import Callable, Iterator, Union

from tcomodel.errors import TcoModelError
from tcomodel.sheet.functions import FUNCTIONS


class SheetError(TcoModelError):
    """A line-item model is malformed (circular reference, missing input, unplaced item...)."""


Number = Union[int, float]


def wrap(x: "Expr | Number") -> "Expr":
    if isinstance(x, Expr):
        return x
    if isinstance(x, bool):
        return Const(float(x))
    if isinstance(x, (int, float)):
        return Const(float(x))
    # numpy scalars
    try:
        return Const(float(x))
    except (TypeError, ValueError):
        raise SheetError(f"cannot use {x!r} in a line-item expression") from None


class Expr:
    """Base of every node. Operators build new nodes."""

    __slots__ = ()

    def children(self) -> tuple["Expr", ...]:
        return ()

    @property
    def is_scalar(self) -> bool:
        """True when the value does not vary by period (one cell, not a row)."""
        return all(c.is_scalar for c in self.children())

    # --- arithmetic ---------------------------------------------------------------------------
    def __add__(self, o):
        return BinOp("+", self, wrap(o))

    def __radd__(self, o):
        return BinOp("+", wrap(o), self)

    def __sub__(self, o):
        return BinOp("-", self, wrap(o))

    def __rsub__(self, o):
        return BinOp("-", wrap(o), self)

    def __mul__(self, o):
        return BinOp("*", self, wrap(o))

    def __rmul__(self, o):
        return BinOp("*", wrap(o), self)

    def __truediv__(self, o):
        return BinOp("/", self, wrap(o))

    def __rtruediv__(self, o):
        return BinOp("/", wrap(o), self)

    def __pow__(self, o):
        return BinOp("^", self, wrap(o))

    def __rpow__(self, o):
        return BinOp("^", wrap(o), self)

    def __neg__(self):
        return Neg(self)

    def __pos__(self):
        return self

    # --- comparisons (0/1) ----------------------------------------------------------------------
    def __gt__(self, o):
        return Compare(">", self, wrap(o))

    def __ge__(self, o):
        return Compare(">=", self, wrap(o))

    def __lt__(self, o):
        return Compare("<", self, wrap(o))

    def __le__(self, o):
        return Compare("<=", self, wrap(o))

    def eq(self, o):
        return Compare("=", self, wrap(o))

    def ne(self, o):
        return Compare("<>", self, wrap(o))

    __hash__ = object.__hash__

    def walk(self) -> Iterator["Expr"]:
        """This node and every node below it, stopping at item references."""
        yield self
        for c in self.children():
            yield from c.walk()


class Const(Expr):
    """A literal number (universal constants only: 1e6, hours per quarter, 0, 1)."""

    __slots__ = ("value", "name")

    def __init__(self, value: Number, name: str | None = None):
        self.value = float(value)
        if not math.isfinite(self.value):
            raise SheetError(f"constant {value!r} is not finite")
        self.name = name

    def __repr__(self):
        return f"Const({self.value!r})"


class Input(Expr):
    """A scalar input living in one cell of the Inputs sheet."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"Input({self.name!r})"


class Text(Expr):
    """A string literal in a rendered formula (e.g. IFERROR's fallback); the engine does not evaluate it."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self):
        return f"Text({self.value!r})"


class RowRef(Expr):
    """A per-period row given from outside the engine: a row input (workload) or a timeline row."""

    __slots__ = ("name", "kind")

    def __init__(self, name: str, kind: str = "row"):
        self.name = name
        self.kind = kind

    @property
    def is_scalar(self) -> bool:
        return False

    def __repr__(self):
        return f"RowRef({self.name!r}, {self.kind!r})"


class BinOp(Expr):
    __slots__ = ("op", "a", "b")

    def __init__(self, op: str, a: Expr, b: Expr):
        self.op, self.a, self.b = op, a, b

    def children(self):
        return (self.a, self.b)


class Neg(Expr):
    __slots__ = ("a",)

    def __init__(self, a: Expr):
        self.a = a

    def children(self):
        return (self.a,)


class Compare(Expr):
    """Comparison giving 1 or 0, rendered as ``(a>b)*1`` (works identically in Excel and LibreOffice)."""

    __slots__ = ("op", "a", "b")

    def __init__(self, op: str, a: Expr, b: Expr):
        self.op, self.a, self.b = op, a, b

    def children(self):
        return (self.a, self.b)


class Func(Expr):
    """An elementwise worksheet function (per period)."""

    __slots__ = ("name", "args")

    def __init__(self, name: str, *args):
        fn = FUNCTIONS.get(name)
        if fn is None or fn.aggregate:
            raise SheetError(f"{name} is not an elementwise worksheet function")
        lo, hi = fn.arity
        if not lo <= len(args) <= hi:
            raise SheetError(f"{name} takes {lo}..{hi} arguments, got {len(args)}")
        self.name = name
        self.args = tuple(wrap(a) for a in args)

    def children(self):
        return self.args


class Aggregate(Expr):
    """Reduces whole rows to one scalar cell. ``rows`` are row-like nodes (period items, row refs);
    ``scalars`` are scalar arguments (NPV rate, INDEX position, MATCH lookup value)."""

    __slots__ = ("name", "rows", "scalars")

    def __init__(self, name: str, rows: tuple, scalars: tuple = ()):
        fn = FUNCTIONS.get(name)
        if fn is None or not fn.aggregate:
            raise SheetError(f"{name} is not an aggregate worksheet function")
        if not (fn.arity[0] <= len(rows) <= fn.arity[1] and len(scalars) == fn.scalars):
            raise SheetError(f"{name} takes {fn.arity[0]}..{fn.arity[1]} rows and {fn.scalars} scalar(s)")
        self.name = name
        self.rows = tuple(rows)
        self.scalars = tuple(wrap(s) for s in scalars)
        for r in self.rows:
            if not (isinstance(r, RowRef) or (isinstance(r, Item))):
                raise SheetError(
                    f"{name} needs a row (a line item or a row input), not an expression: "
                    "make the expression its own line item first"
                )
        for s in self.scalars:
            if not s.is_scalar:
                raise SheetError(f"{name}: the rate/position/lookup argument must be a scalar")

    @property
    def is_scalar(self) -> bool:
        return True

    def children(self):
        return self.rows + self.scalars


class Prev(Expr):
    """The previous period's value of a line item; ``init`` in the first period."""

    __slots__ = ("item", "init")

    def __init__(self, item: "Item", init):
        if not isinstance(item, Item):
            raise SheetError("prev() takes a line item")
        self.item = item
        self.init = wrap(init)

    @property
    def is_scalar(self) -> bool:
        return False

    def children(self):
        return (self.item, self.init)


class Item(Expr):
    """A line item: one row (or, for scalar items, one cell) of a calculation sheet.

    As a node inside another expression it means "this item's value in the same period".
    """

    __slots__ = ("label", "unit", "_expr", "name", "total", "per_period", "style", "_scalar", "_reads", "first_period",
                 "last_period")

    def __init__(self, label: str, unit: str, expr=None, *, name: str | None = None,
                 total: bool = True, per_period: bool = False, style: str | None = None, first_period: int = 0,
                 last_period: int | None = None):
        self.label = label
        self.unit = unit
        self.name = name or label
        self.total = total  # write SUM of the row in the total column (False for balances, rates)
        self.per_period = per_period  # force a row even when the expression is scalar
        self.style = style  # key into the writer's formats for the value cells
        # periods before first_period and after last_period (0-based) are empty by construction (a purchase
        # quarter's schedule before the purchase, additions after it): the report leaves those cells blank, and
        # the engine holds 0 there, as Excel reads a blank cell. last_period < first_period: no cell at all
        for k in (first_period, last_period):
            if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 0):
                raise SheetError(f"line item {label!r}: first_period and last_period must be whole numbers >= 0")
        self.first_period = first_period
        self.last_period = last_period
        self._expr = None
        self._scalar = None
        self._reads = None
        if expr is not None:
            self.define(expr)

    def blank(self, periods: int) -> tuple[int, int]:
        """(first, stop): the periods first..stop-1 hold cells; the others are blank (see first_period)."""
        first = min(self.first_period, periods)
        stop = periods if self.last_period is None else min(periods, self.last_period + 1)
        return first, max(stop, first)

    def define(self, expr: "Expr | Number | Callable[[Item], Expr]") -> "Item":
        if self._expr is not None:
            raise SheetError(f"line item {self.label!r} is already defined")
        if callable(expr) and not isinstance(expr, Expr):
            expr = expr(self)
        self._expr = wrap(expr)
        return self

    @property
    def expr(self) -> Expr:
        if self._expr is None:
            raise SheetError(f"line item {self.label!r} has no expression")
        return self._expr

    @property
    def is_scalar(self) -> bool:
        if self._scalar is None:  # cached: definitions never change once set
            self._scalar = (not self.per_period) and _is_scalar_expr(self.expr, {id(self)})
        return self._scalar

    @property
    def reads(self) -> tuple[tuple, tuple]:
        """``(tuple(iter_refs(expr)), tuple(iter_names(expr)))`` of the definition, from one walk, kept: every
        evaluation's schedule reads them (a build compiles the model, then its metrics for the tornado)."""
        if self._reads is None:  # cached: definitions never change once set
            refs: list = []
            names: list = []
            _collect_reads(self.expr, refs, names)
            self._reads = (tuple(refs), tuple(names))
        return self._reads

    def children(self):
        return ()  # references stop here; walk an item's definition through ``item.expr``

    def __repr__(self):
        return f"Item({self.label!r})"


def _is_scalar_expr(e: Expr, seen: set) -> bool:
    t = type(e)  # node classes are not subclassed: a type test, cheaper than isinstance, on every node of a model
    if t is Item:
        if e._scalar is not None:
            return e._scalar
        if e.per_period or id(e) in seen:  # a same-period cycle is an error reported elsewhere
            return False
        e._scalar = _is_scalar_expr(e.expr, seen | {id(e)})
        return e._scalar
    if t is RowRef or t is Prev:
        return False
    if t is Aggregate:
        return True
    for c in e.children():
        if not _is_scalar_expr(c, seen):
            return False
    return True


# --- constructors -------------------------------------------------------------------------------

def const(value: Number, name: str | None = None) -> Const:
    return Const(value, name)


MILLION = Const(1e6, "million")
HOURS_PER_QUARTER = Const(365.25 * 24 / 4, "hours per quarter")  # 2191.5
MONTHS_PER_QUARTER = Const(3, "months per quarter")


def inp(name: str) -> Input:
    """A scalar input cell."""
    return Input(name)


def row_input(name: str) -> RowRef:
    """A per-period input row (e.g. quarterly workload)."""
    return RowRef(name, "row")


def timeline(name: str) -> RowRef:
    """A Time-sheet row (0/1 flag, quarter index, escalation index)."""
    return RowRef(name, "timeline")


def item(label: str, unit: str, expr=None, **kw) -> Item:
    """A line item; ``expr`` may be a callable taking the item itself (for ``prev(self, 0)``)."""
    return Item(label, unit, expr, **kw)


def prev(x: Item, init=0.0) -> Prev:
    return Prev(x, init)


def SUM(*args) -> Func:
    return Func("SUM", *args)


def MIN(*args) -> Func:
    return Func("MIN", *args)


def MAX(*args) -> Func:
    return Func("MAX", *args)


def IF(cond, a, b) -> Func:
    return Func("IF", cond, a, b)


def ROUND(x, digits=0) -> Func:
    return Func("ROUND", x, digits)


def SQRT(x) -> Func:
    return Func("SQRT", x)


def CEILING(x, significance=1) -> Func:
    return Func("CEILING", x, significance)


def IFERROR(x, alt) -> Func:
    return Func("IFERROR", x, alt)


def NA() -> Func:
    return Func("NA")


def CHOOSE(k, *options) -> Func:
    return Func("CHOOSE", k, *options)


def balanced_sum(parts):
    """a + b + c ... as a balanced tree: depth log2(n), so hundreds of options or vintages do not
    exhaust recursion when the expression is walked (the rendered formula evaluates in the same order)."""
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return balanced_sum(parts[:mid]) + balanced_sum(parts[mid:])


def total(row) -> Aggregate:
    """SUM over all periods of a row."""
    return Aggregate("TOTAL", (row,))


def npv(rate, row) -> Aggregate:
    """Excel NPV: the first period is discounted by one full period (sum cf_t / (1+r)^t, t=1..N)."""
    return Aggregate("NPV", (row,), (rate,))


def irr(row) -> Aggregate:
    """Excel IRR per period (Newton from guess 0.1); #NUM! (NaN) when it does not converge."""
    return Aggregate("IRR", (row,))


def irr_with_tail(row, tail: "Item") -> Aggregate:
    """Excel IRR over a row's periods and one more flow after them: ``tail`` is a scalar item that the report
    places in the column right after the row's last period, so the formula is IRR(E12:Y12). For flows at
    quarter boundaries 0..N: the row holds boundaries 0..N-1 (the start of each quarter), the tail boundary N."""
    if not isinstance(tail, Item):
        raise SheetError("irr_with_tail needs the tail as a line item (it gets its own cell)")
    return Aggregate("IRR_TAIL", (row,), (tail,))


def sumproduct(a, b) -> Aggregate:
    return Aggregate("SUMPRODUCT", (a, b))


def index(row, position) -> Aggregate:
    """INDEX(row, k): the k-th period's value (1-based)."""
    return Aggregate("INDEX", (row,), (position,))


def match(value, row) -> Aggregate:
    """MATCH(value, row, 0): 1-based position of the first period equal to value; #N/A if none."""
    return Aggregate("MATCH", (row,), (value,))


def count_different(a, b) -> Aggregate:
    """How many period cells of row ``a`` differ from row ``b``."""
    return Aggregate("COUNT_DIFFERENT", (a, b))


def sumifs(row, key_row, key) -> Aggregate:
    """SUMIFS(row, key_row, key): the sum of the periods whose ``key_row`` value equals ``key`` (a scalar), e.g.
    a year's quarters keyed on the Time sheet's Year row."""
    return Aggregate("SUMIFS", (row, key_row), (key,))


def row_max(row) -> Aggregate:
    """MAX over all periods of a row."""
    return Aggregate("ROWMAX", (row,))


def text(value: str) -> Text:
    return Text(value)


def iter_refs(e: Expr) -> Iterator[tuple[Item, str]]:
    """Items referenced by an expression, with how: 'same' (same period), 'lag' (prev), 'agg' (whole row)."""
    if isinstance(e, Item):
        yield e, "same"
    elif isinstance(e, Prev):
        yield e.item, "lag"
        yield from iter_refs(e.init)
    elif isinstance(e, Aggregate):
        for r in e.rows:
            if isinstance(r, Item):
                yield r, "agg"
        for s in e.scalars:
            yield from iter_refs(s)
    else:
        for c in e.children():
            yield from iter_refs(c)


def _collect_reads(e: Expr, refs: list, names: list) -> None:
    """What iter_refs and iter_names yield, in their order, appended to ``refs`` and ``names`` in one walk."""
    t = type(e)  # see _is_scalar_expr
    if t is Item:
        refs.append((e, "same"))
    elif t is Input or t is RowRef:
        names.append(e)
    elif t is Prev:
        refs.append((e.item, "lag"))
        _collect_reads(e.init, refs, names)
    elif t is Aggregate:
        for r in e.rows:
            if type(r) is Item:
                refs.append((r, "agg"))
            else:
                names.append(r)
        for c in e.scalars:
            _collect_reads(c, refs, names)
    else:
        for c in e.children():
            _collect_reads(c, refs, names)


def iter_names(e: Expr) -> Iterator[Expr]:
    """Input and RowRef nodes in an expression (not following item references)."""
    if isinstance(e, (Input, RowRef)):
        yield e
    elif isinstance(e, Item):
        return
    else:
        for c in e.children():
            yield from iter_names(c)
