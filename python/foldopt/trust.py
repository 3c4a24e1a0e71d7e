"""The trust report of a derivative call as Python objects: the library's own report
(fold_trust_report; for foldopt.opf fold_acopf_trust_report, renumbered to the result the
call returned), every item placed in that result and, for AC-OPF, named by its bus,
generator or branch (doc/python.md "Trust")."""
import math
from dataclasses import dataclass, field

SIDE_KINDS = ("ambiguous", "weakly_active", "dependent")
ENTRY_KINDS = ("inconsistent", "not_unique", "uncertain", "barrier_error", "kink")


@dataclass
class TrustItem:
    """One item of the report. kind is the library's (fold_trust_kind_name):

    sides (a bound of a variable or a side of a constraint the solution's accuracy cannot
    classify): "ambiguous" (slack and multiplier both nonzero), "weakly_active" (both
    zero), "dependent" (a multiplier of dependent active constraints); they carry item
    ("variable" or "constraint"), index, side ("lower" / "upper"), slack, multiplier and
    affected, the positions in the result of the entries whose values depend on them;

    entries of the result: "not_unique" (NaN: a singular KKT matrix leaves it
    undetermined), "uncertain" (NaN: its value depends on the classification of ambiguous
    sides; its values in [lo, hi]), "barrier_error" (value kept, its limit for mu -> 0 in
    [lo, hi]), "kink" (the optimal value's left derivative in lo, right in hi),
    "inconsistent" (a Jacobian column or row without a solution); they carry position,
    value, lo, hi.

    name is the library's ("bus 14 vm upper", "d vm bus 7 / d pd bus 3", "c1 gen 1").
    position: where the entry sits in what the call returned: (row, col) of a jacobian
    (None for a whole line), (kind, i) for a dict or array over the items of a kind
    (foldopt.opf: result[kind][i], or result[i] when one kind was asked for), i for a
    foldopt.Solution's vjp or value gradient, (block, i) for its jvp. foldopt.opf also
    names the output (kind, key), the parameter (kind, key) and, for sides, the element
    ("bus", id), ("gen", row) or ("branch", row) of the limit."""
    kind: str
    name: str
    item: str = None
    index: int = -1
    side: str = None
    slack: float = math.nan
    multiplier: float = math.nan
    affected: list = field(default_factory=list)
    position: object = None
    output: tuple = None
    parameter: tuple = None
    element: tuple = None
    value: float = math.nan
    lo: float = math.nan
    hi: float = math.nan

    @property
    def is_side(self):
        """A constraint or bound side (ambiguous, weakly active, dependent), not an entry."""
        return self.kind in SIDE_KINDS


@dataclass
class Trust:
    """What qualifies the derivatives of a backward call: the call's status and linear-solve
    facts, and items, the library's trust report (TrustItem)."""
    status: str = "FOLD_OK"          # FOLD_OK or the warning (FOLD_WARN_NOT_UNIQUE, ...)
    detail: str = ""                 # the library's message for a warning
    kkt_form: str = "active"         # the KKT form the solver now uses
    kkt_fallback: bool = False       # the active-set form refused: the barrier form used
    fallback_reason: str = ""
    n_not_unique: int = 0            # entries set to NaN: not determined by the KKT system
    singular_delta: float = 0.0      # singular KKT matrix (regularized or copies pinned), else 0
    residual: float = 0.0            # relative residual of the linear solve
    one_sided: bool = False          # weakly active items resolved by policy
    items: list = field(default_factory=list)

    @property
    def exact(self):
        """True when the derivatives are exact to the backward tolerance: no warning, no
        undetermined entry, nothing in the report."""
        return self.status == "FOLD_OK" and self.n_not_unique == 0 and not self.items

    def of_kind(self, *kinds):
        """The items of the given kinds ("uncertain", "ambiguous", ...)."""
        for k in kinds:
            if k not in SIDE_KINDS + ENTRY_KINDS:
                raise ValueError(f"unknown trust kind {k!r}; valid: "
                                 f"{', '.join(SIDE_KINDS + ENTRY_KINDS)}")
        return [it for it in self.items if it.kind in kinds]

    @property
    def sides(self):
        """Ambiguous, weakly active and dependent constraint and bound sides."""
        return [it for it in self.items if it.is_side]

    @property
    def entries(self):
        """Flagged entries of the result (not unique, uncertain, barrier error, kink,
        inconsistent lines)."""
        return [it for it in self.items if not it.is_side]

    @classmethod
    def from_backward(cls, info, kkt_form, place=None, element=None):
        """The Trust of a call from its info dict (its "trust" list: the library's report).
        place(entry, row, col) -> dict of position / output / parameter, or None for an
        entry the call did not return; element(name) -> the element a side belongs to."""
        t = cls(kkt_form=kkt_form)
        if not info:
            return t
        t.status = info.get("status_name", "FOLD_OK")
        t.detail = info.get("detail", "")
        t.kkt_fallback = bool(info.get("kkt_fallback", False))
        t.fallback_reason = info.get("kkt_fallback_reason", "")
        t.n_not_unique = info.get("n_not_unique", 0)
        t.singular_delta = info.get("singular_delta", 0.0)
        t.residual = info.get("residual", 0.0)
        t.one_sided = bool(info.get("is_one_sided", False))
        place = place or (lambda entry, row, col: {"position": entry if entry >= 0 else None})
        mapped = {}  # sides may share one tuple: mapped once
        for d in info.get("trust", ()):
            if d["kind"] in SIDE_KINDS:
                key = id(d["affected"])
                if key not in mapped:
                    mapped[key] = [p["position"] for p in (place(e, -1, -1) for e in d["affected"])
                                   if p is not None]
                affected = mapped[key]
                t.items.append(TrustItem(d["kind"], d["name"], item=d["item"],
                                         index=d["index"], side=d["side"], slack=d["slack"],
                                         multiplier=d["multiplier"], affected=affected,
                                         element=element(d["name"]) if element else None))
                continue
            where = place(d["entry"], d["row"], d["col"])
            if where is None:  # an entry of the library's call that was not asked for
                continue
            t.items.append(TrustItem(d["kind"], d["name"], value=d["value"], lo=d["lo"],
                                     hi=d["hi"], **where))
        return t
