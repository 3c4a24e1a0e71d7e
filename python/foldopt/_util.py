"""Input checks shared by the foldopt modules: every bad argument raises a TypeError or
ValueError that names it."""
import numbers

import numpy as np


def vector(value, n, name, allow_none=False, finite=True):
    """value as a contiguous float64 vector of n entries (n None: any length)."""
    if value is None:
        if allow_none:
            return None
        raise TypeError(f"{name} is required")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # objects numpy cannot read
        raise TypeError(f"{name} must be an array of numbers: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating)
                                   or np.issubdtype(arr.dtype, np.integer)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be an array of real numbers, not {arr.dtype}")
    if arr.ndim != 1:
        if arr.ndim == 0 and n is None:
            arr = arr.reshape(1)
        else:
            raise ValueError(f"{name} must be a vector (1-D), got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} entries, expected {n}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{name}[{bad}] = {arr[bad]} is not finite")
    return arr


def indices(value, n_max, name):
    """value as a contiguous int64 vector of indices in [0, n_max)."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise TypeError(f"{name} must be a vector of integers, got {arr.dtype} {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n_max):
        bad = int(np.flatnonzero((arr < 0) | (arr >= n_max))[0])
        raise ValueError(f"{name}[{bad}] = {arr[bad]} outside [0, {n_max})")
    return arr


def integer(value, name, minimum=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} = {value} must be >= {minimum}")
    return int(value)


def names(value, name):
    """A kind or a sequence of kinds as a tuple of strings."""
    if isinstance(value, str):
        return (value,)
    try:
        out = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a name or a sequence of names") from None
    for v in out:
        if not isinstance(v, str):
            raise TypeError(f"{name} must hold names (str), not {type(v).__name__}")
    if not out:
        raise ValueError(f"{name} is empty")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} lists a name twice: {list(out)}")
    return out
